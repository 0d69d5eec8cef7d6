// The commands `trace` needs from a GDB stub (GDB manual, "Packets"): qSupported and QStartNoAckMode
// at connect, the register layout from qXfer:features:read:target.xml, g/p, m/M, Z/z breakpoints,
// c/vCont, s, the 0x03 interrupt and stop replies. One request in flight at a time.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A client of one stub; not thread-safe (one owner drives it).
public final class GDBClient {
  /// The packet link.
  public let connection: GDBConnection
  /// `qSupported` features: `name` → value (`+` for a plain yes).
  public private(set) var features: [String: String] = [:]
  /// The register layout from the target description.
  public private(set) var layout: GDBRegisterLayout
  /// Largest packet the stub accepts (PacketSize), bounding memory requests.
  public private(set) var packetSize = 4096
  /// Whether the target is running (a `c`/`s` was sent and no stop reply read yet).
  public private(set) var running = false
  var endpoint: String { connection.endpoint }

  /// Connects and negotiates: qSupported, QStartNoAckMode when offered, the target description.
  public init(_ endpoint: GDBEndpoint, timeout: Double = 5) throws(GDBRemoteError) {
    connection = try GDBConnection(host: endpoint.host, port: endpoint.port, timeout: timeout)
    layout = GDBRegisterLayout(architecture: nil, registers: [])
    do {
      let reply = try ask("qSupported:multiprocess-;swbreak+;hwbreak+;xmlRegisters=i386")
      for item in reply.split(separator: ";") {
        if let eq = item.firstIndex(of: "=") {
          features[String(item[..<eq])] = String(item[item.index(after: eq)...])
        } else if let sign = item.last, sign == "+" || sign == "-" || sign == "?" {
          features[String(item.dropLast())] = String(sign)
        }
      }
      if let size = features["PacketSize"].flatMap({ Int($0, radix: 16) }), size >= 64 {
        packetSize = min(size, 1 << 20)
      }
      if features["QStartNoAckMode"] == "+" {
        let ok = try ask("QStartNoAckMode")
        if ok == "OK" { connection.acknowledging = false }
      }
      layout = try readTargetDescription()
    } catch {
      connection.close()
      throw error
    }
  }

  /// Closes the connection without touching the target.
  public func close() { connection.close() }

  // MARK: Target description

  /// One `qXfer:features:read` object, read in chunks (`m…` more, `l…` last).
  public func readFeatureDocument(_ annex: String) throws(GDBRemoteError) -> String {
    guard features["qXfer:features:read"] == "+" else {
      throw .unsupported(endpoint: endpoint, command: "qXfer:features:read")
    }
    var data: [UInt8] = []
    let chunk = max(256, packetSize - 16)
    for _ in 0..<4096 {
      let command = "qXfer:features:read:\(annex):\(String(data.count, radix: 16)),\(String(chunk, radix: 16))"
      let reply = Array(try ask(command).utf8)
      guard let marker = reply.first else { throw .unsupported(endpoint: endpoint, command: command) }
      if marker == UInt8(ascii: "E") { throw errorReply(reply, command) }
      guard marker == UInt8(ascii: "m") || marker == UInt8(ascii: "l") else {
        throw .unexpectedReply(endpoint: endpoint, command: command, reply: String(decoding: reply, as: UTF8.self))
      }
      data.append(contentsOf: reply.dropFirst())
      if marker == UInt8(ascii: "l") { return String(decoding: data, as: UTF8.self) }
      guard reply.count > 1 else {
        throw .unexpectedReply(endpoint: endpoint, command: command, reply: "m with no data")
      }
    }
    throw .targetDescription(endpoint: endpoint, reason: "\(annex) longer than 4096 chunks")
  }

  /// target.xml and its includes (at most 32 documents, nested at most 4 deep), numbered as GDB does.
  func readTargetDescription() throws(GDBRemoteError) -> GDBRegisterLayout {
    var registers: [GDBRegister] = []
    var next = 0
    var architecture: String?
    var documents = 0
    func load(_ annex: String, depth: Int) throws(GDBRemoteError) {
      documents += 1
      guard depth <= 4, documents <= 32 else {
        throw .targetDescription(endpoint: endpoint, reason: "includes nested too deep or too many (at \(annex))")
      }
      let text = try readFeatureDocument(annex)
      let document: TargetDescriptionXML.Document
      do { document = try TargetDescriptionXML.parse(text) } catch {
        throw .targetDescription(endpoint: endpoint, reason: "\(annex): \(error.reason)")
      }
      if let arch = document.architecture { architecture = arch }
      for item in document.items {
        switch item {
        case .register(let name, let bits, let number, let feature):
          let n = number ?? next
          registers.append(GDBRegister(name: name, number: n, bitSize: bits, feature: feature))
          next = n + 1
        case .include(let href):
          guard !href.contains("/"), !href.isEmpty else {
            throw .targetDescription(endpoint: endpoint, reason: "include `\(href)` is not a plain annex name")
          }
          try load(href, depth: depth + 1)
        }
      }
    }
    try load("target.xml", depth: 0)
    guard !registers.isEmpty else { throw .targetDescription(endpoint: endpoint, reason: "no <reg> elements") }
    return GDBRegisterLayout(architecture: architecture, registers: registers)
  }

  // MARK: Registers

  /// The register called `name`, or a named error.
  public func register(_ name: String) throws(GDBRemoteError) -> GDBRegister {
    guard let register = layout.register(named: name) else { throw .unknownRegister(endpoint: endpoint, name: name) }
    return register
  }

  /// Every register `g` returns, by number (raw little-endian bytes; nil where the stub sent `x`s).
  public func readAllRegisters() throws(GDBRemoteError) -> [Int: [UInt8]] {
    let reply = try stopped("g")
    let bytes = Array(reply.utf8)
    var out: [Int: [UInt8]] = [:]
    var offset = 0
    for register in layout.registers {
      let digits = register.bitSize / 4
      guard offset + digits <= bytes.count else { break }  // `g` may stop before the last registers
      let slice = bytes[offset..<(offset + digits)]
      if let raw = GDBPacket.bytes(fromHex: slice) {
        out[register.number] = raw
      } else if !slice.allSatisfy({ $0 == UInt8(ascii: "x") }) {
        throw .malformed(endpoint: endpoint, command: "g", reason: "register \(register.name) is not hex")
      }
      offset += digits
    }
    guard !out.isEmpty else { throw .unexpectedReply(endpoint: endpoint, command: "g", reply: reply) }
    return out
  }

  /// One register's value (`p`), as an unsigned integer of its low 64 bits.
  public func readRegister(_ name: String) throws(GDBRemoteError) -> UInt64 {
    let register = try self.register(name)
    let command = "p" + String(register.number, radix: 16)
    let reply = try stopped(command)
    guard let raw = GDBPacket.bytes(fromHex: reply.utf8), raw.count * 8 == register.bitSize else {
      throw .unexpectedReply(endpoint: endpoint, command: command, reply: reply)
    }
    return Self.littleEndian(raw)
  }

  /// Writes one register (`P`).
  public func writeRegister(_ name: String, _ value: UInt64) throws(GDBRemoteError) {
    let register = try self.register(name)
    var raw: [UInt8] = []
    for i in 0..<(register.bitSize / 8) { raw.append(i < 8 ? UInt8(truncatingIfNeeded: value >> (8 * i)) : 0) }
    try expectOK("P" + String(register.number, radix: 16) + "=" + GDBPacket.hex(raw))
  }

  /// The low 64 bits of little-endian `raw`.
  public static func littleEndian(_ raw: [UInt8]) -> UInt64 {
    var value: UInt64 = 0
    for (i, byte) in raw.prefix(8).enumerated() { value |= UInt64(byte) << (8 * i) }
    return value
  }

  // MARK: Memory

  /// `count` bytes of target memory at virtual address `address` (`m`, in packet-sized pieces).
  public func readMemory(_ address: UInt64, count: Int) throws(GDBRemoteError) -> [UInt8] {
    guard count >= 0, count <= 1 << 26 else {
      throw .malformed(endpoint: endpoint, command: "m", reason: "read of \(count) bytes")
    }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    let piece = max(16, (packetSize - 8) / 2)
    while out.count < count {
      let (at, overflow) = address.addingReportingOverflow(UInt64(out.count))
      guard !overflow else { throw .malformed(endpoint: endpoint, command: "m", reason: "address wraps") }
      let length = min(piece, count - out.count)
      let command = "m" + String(at, radix: 16) + "," + String(length, radix: 16)
      let reply = try stopped(command)
      guard let raw = GDBPacket.bytes(fromHex: reply.utf8), !raw.isEmpty, raw.count <= length else {
        throw .unexpectedReply(endpoint: endpoint, command: command, reply: reply)
      }
      out.append(contentsOf: raw)
    }
    return out
  }

  /// A little-endian unsigned value of `width` (1, 2, 4, 8) bytes at `address`.
  public func readUnsigned(_ address: UInt64, width: Int) throws(GDBRemoteError) -> UInt64 {
    Self.littleEndian(try readMemory(address, count: width))
  }

  /// Writes `bytes` at virtual address `address` (`M`).
  public func writeMemory(_ address: UInt64, _ bytes: [UInt8]) throws(GDBRemoteError) {
    let piece = max(16, (packetSize - 40) / 2)
    var offset = 0
    while offset < bytes.count {
      let length = min(piece, bytes.count - offset)
      let at = address &+ UInt64(offset)  // offset < bytes.count; a wrap is refused by the stub
      try expectOK(
        "M" + String(at, radix: 16) + "," + String(length, radix: 16) + ":"
          + GDBPacket.hex(bytes[offset..<(offset + length)]))
      offset += length
    }
  }

  // MARK: Breakpoints and execution

  /// A breakpoint kind: `Z0` (software) or `Z1` (hardware).
  public enum BreakpointKind: Int, Sendable { case software = 0, hardware = 1 }

  /// Inserts a breakpoint at `address` (x86: kind 1, the length of `int3`).
  public func insertBreakpoint(_ kind: BreakpointKind, at address: UInt64) throws(GDBRemoteError) {
    try expectOK("Z\(kind.rawValue),\(String(address, radix: 16)),1")
  }

  /// Removes a breakpoint.
  public func removeBreakpoint(_ kind: BreakpointKind, at address: UInt64) throws(GDBRemoteError) {
    try expectOK("z\(kind.rawValue),\(String(address, radix: 16)),1")
  }

  /// How many times `?` was asked. QEMU removes every breakpoint when it is (gdbstub.c,
  /// handle_target_halt: "gdb is doing an initial connect"), so a breakpoint set before may be gone.
  public private(set) var haltQueries = 0

  /// Why the target is stopped now (`?`).
  public func haltReason() throws(GDBRemoteError) -> GDBStopReply {
    haltQueries += 1
    let reply = try connection.request("?")
    return try parseStop(reply, command: "?")
  }

  /// Resumes the target (`vCont;c` when offered, else `c`); read the stop with `waitForStop`.
  public func resume() throws(GDBRemoteError) {
    try connection.send(features["vContSupported"] == "+" ? "vCont;c" : "c")
    running = true
  }

  /// Executes one instruction (`s`) and returns the stop.
  public func step() throws(GDBRemoteError) -> GDBStopReply {
    try connection.send("s")
    running = true
    let reply = try waitForStop(timeout: connection.timeout)
    guard let reply else {
      throw .timeout(endpoint: endpoint, waitingFor: "the stop after `s`", seconds: connection.timeout)
    }
    return reply
  }

  /// The next stop reply, waiting at most `timeout` seconds (nil when none came: still running).
  public func waitForStop(timeout: Double) throws(GDBRemoteError) -> GDBStopReply? {
    guard running else { return nil }
    let deadline = Self.now() + timeout
    while true {
      let remaining = deadline - Self.now()
      let pending = try connection.hasPendingInput()
      guard remaining > 0 || pending else { return nil }
      let payload: [UInt8]
      do {
        payload = try connection.receive(for: "c", timeout: max(remaining, 0.001))
      } catch .timeout {
        return nil
      }
      let text = String(decoding: payload, as: UTF8.self)
      guard let stop = try parseStop(text, command: "c", allowOutput: true) else { continue }
      running = false
      return stop
    }
  }

  /// Stops a running target (0x03) and returns its stop reply. When no stop reply comes, the target
  /// may have stopped already with its reply lost (cut short): `?` is asked before giving up.
  public func interrupt() throws(GDBRemoteError) -> GDBStopReply {
    guard running else { return try haltReason() }
    try connection.sendRaw(0x03)
    guard let stop = try waitForStop(timeout: connection.timeout) else {
      running = false
      do { return try haltReason() } catch {
        running = true
        throw .timeout(endpoint: endpoint, waitingFor: "the stop after the 0x03 interrupt", seconds: connection.timeout)
      }
    }
    return stop
  }

  /// Detaches (`D`): the stub resumes the target and keeps running.
  public func detach() throws(GDBRemoteError) {
    if running { _ = try interrupt() }
    let reply = try ask("D")
    guard reply == "OK" || reply.isEmpty else { throw .unexpectedReply(endpoint: endpoint, command: "D", reply: reply) }
  }

  // MARK: Helpers

  /// Sends a command that is not a resume and returns its reply, skipping stop replies that arrive
  /// unasked (QEMU sends `T02` when a connection stops a running guest, possibly after our request).
  func ask(_ command: String) throws(GDBRemoteError) -> String {
    try connection.send(command)
    for _ in 0..<8 {
      let reply = String(decoding: try connection.receive(for: command), as: UTF8.self)
      guard Self.isUnaskedStop(reply) else { return reply }
    }
    throw .unexpectedReply(endpoint: endpoint, command: command, reply: "only stop replies")
  }

  /// `T05…`/`S05`: a stop reply, which no command but `?`, `c`, `s` and `vCont` answers with.
  static func isUnaskedStop(_ reply: String) -> Bool {
    let bytes = Array(reply.utf8)
    guard bytes.count >= 3, bytes[0] == UInt8(ascii: "T") || bytes[0] == UInt8(ascii: "S") else { return false }
    return GDBPacket.nibble(bytes[1]) != nil && GDBPacket.nibble(bytes[2]) != nil
      && (bytes.count == 3 || bytes[0] == UInt8(ascii: "T"))
  }

  /// A request that needs the target stopped.
  func stopped(_ command: String) throws(GDBRemoteError) -> String {
    guard !running else { throw .unexpectedReply(endpoint: endpoint, command: command, reply: "(target running)") }
    let reply = try ask(command)
    if reply.isEmpty { throw .unsupported(endpoint: endpoint, command: command) }
    if reply.utf8.first == UInt8(ascii: "E"), reply.utf8.count == 3 { throw errorReply(Array(reply.utf8), command) }
    return reply
  }

  func expectOK(_ command: String) throws(GDBRemoteError) {
    let reply = try stopped(command)
    guard reply == "OK" else { throw .unexpectedReply(endpoint: endpoint, command: command, reply: reply) }
  }

  func errorReply(_ reply: [UInt8], _ command: String) -> GDBRemoteError {
    guard let code = GDBPacket.bytes(fromHex: reply.dropFirst().prefix(2))?.first else {
      return .unexpectedReply(
        endpoint: endpoint, command: Self.commandName(command), reply: String(decoding: reply, as: UTF8.self))
    }
    return .errorReply(endpoint: endpoint, command: Self.commandName(command), code: code)
  }

  static func commandName(_ command: String) -> String {
    command.count <= 48 ? command : String(command.prefix(48)) + "…"
  }

  func parseStop(_ text: String, command: String, allowOutput: Bool = false) throws(GDBRemoteError) -> GDBStopReply? {
    do throws(PacketFormatError) {
      let stop = try GDBStopReply.parse(text)
      if stop == nil, !allowOutput { throw PacketFormatError("console output where a stop reply was expected") }
      return stop
    } catch {
      throw .malformed(endpoint: endpoint, command: command, reason: error.reason)
    }
  }

  func parseStop(_ text: String, command: String) throws(GDBRemoteError) -> GDBStopReply {
    guard let stop = try parseStop(text, command: command, allowOutput: false) else {
      throw .malformed(endpoint: endpoint, command: command, reason: "no stop reply")
    }
    return stop
  }

  /// Monotonic seconds.
  static func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
  }
}
