// A GDB stub on 127.0.0.1 that plays a stopped 32-bit x86 guest (TraceX86Guest) for `trace`: the
// i386 target description (32-bit registers with fs_base, cr3 and efer, as qemu-system-i386
// describes a CPU), `g`/`p` from the current hit's registers, `m` from the guest's memory, `Z0`/`z0`
// recorded, `c` answered at once with the next hit of the sequence (EIP at the breakpoint, ESP at the
// kernel stack, FS base the KPCR, CR3 the process's), `s` moving EIP past it, 0x03 and `D`. Packets
// are acknowledged with `+` (no QStartNoAckMode).

import Foundation
import TestData

#if canImport(Glibc)
  import Glibc
#endif

/// The scripted x86 stub, serving one connection on a background thread.
final class TraceX86Stub: @unchecked Sendable {
  // @unchecked: the counters are written by the serving thread and read after `finish()`.
  static let registers: [(name: String, bits: Int)] =
    ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags", "cs", "ss", "ds", "es", "fs", "gs"].map {
      ($0, 32)
    } + [("fs_base", 32), ("gs_base", 32), ("cr0", 32), ("cr3", 32), ("cr4", 32), ("efer", 64)]

  static var targetXML: String {
    let regs = registers.map { #"<reg name="\#($0.name)" bitsize="\#($0.bits)"/>"# }.joined()
    return #"<?xml version="1.0"?><target><architecture>i386</architecture>"#
      + #"<feature name="org.gnu.gdb.i386.core">"# + regs + "</feature></target>"
  }

  let port: UInt16
  let guest: TraceX86Guest
  private let listener: Int32
  private let done = DispatchSemaphore(value: 0)
  private var values: [String: UInt64] = [:]
  private var hits = 0
  /// Breakpoints inserted and removed, and whether the client detached.
  private(set) var inserted: [UInt64] = []
  private(set) var removed: [UInt64] = []
  private(set) var detached = false

  init(guest: TraceX86Guest) throws {
    self.guest = guest
    (listener, port) = try LoopbackPort.listen(what: "x86 stub")
    // Stopped in kernel mode, protected mode with PAE paging (CR0.PG|PE, CR4.PAE), EFER.LMA clear.
    values = ["cr0": 0x8000_0011, "cr4": 0x20, "efer": 0, "fs_base": TraceX86Guest.kpcr, "eip": 0x8240_1000]
    values["cr3"] = TraceX86Guest.processes[0].cr3
    Thread.detachNewThread { [self] in
      self.serve()
      self.done.signal()
    }
  }

  /// Waits (at most 10 s) until the client is gone.
  func finish() { _ = done.wait(timeout: .now() + 10) }

  static func hex(_ value: UInt64, bits: Int) -> String {
    (0..<(bits / 8)).map {
      let byte = UInt8(truncatingIfNeeded: value >> (8 * UInt64($0)))
      return (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
    }.joined()
  }

  static func frame(_ payload: String) -> [UInt8] {
    var sum = 0
    for byte in payload.utf8 { sum = (sum + Int(byte)) % 256 }
    return Array(("$" + payload + "#" + (sum < 0x10 ? "0" : "") + String(sum, radix: 16)).utf8)
  }

  /// The reply to one packet (nil: none now, the target runs).
  private func reply(_ packet: String) -> String? {
    if packet.hasPrefix("qSupported") { return "PacketSize=1000;qXfer:features:read+" }
    if packet.hasPrefix("qXfer:features:read:target.xml:") {
      let range = packet.dropFirst("qXfer:features:read:target.xml:".count).split(separator: ",")
      let offset = range.first.flatMap { Int($0, radix: 16) } ?? 0
      let xml = Array(Self.targetXML.utf8)
      return offset >= xml.count ? "l" : "l" + String(decoding: xml[offset...], as: UTF8.self)
    }
    switch packet.first {
    case "?": return "S05"
    case "g": return Self.registers.map { Self.hex(values[$0.name] ?? 0, bits: $0.bits) }.joined()
    case "p":
      guard let n = Int(packet.dropFirst(), radix: 16), n < Self.registers.count else { return "E45" }
      return Self.hex(values[Self.registers[n].name] ?? 0, bits: Self.registers[n].bits)
    case "m":
      let parts = packet.dropFirst().split(separator: ",")
      guard parts.count == 2, let at = UInt64(parts[0], radix: 16), let count = Int(parts[1], radix: 16),
        let bytes = guest.read(at, count: count)
      else { return "E14" }
      return bytes.map { ($0 < 0x10 ? "0" : "") + String($0, radix: 16) }.joined()
    case "Z", "z":
      let parts = packet.dropFirst(3).split(separator: ",")
      guard let address = parts.first.flatMap({ UInt64($0, radix: 16) }) else { return "E22" }
      if packet.first == "Z" { inserted.append(address) } else { removed.append(address) }
      return "OK"
    case "c":
      let (esp, cr3) = guest.enter(hits)
      hits += 1
      values["eip"] = guest.keUserModeCallback
      values["esp"] = esp
      values["cr3"] = cr3
      return "T05thread:01;"
    case "s":
      values["eip", default: 0] += 1
      return "T05thread:01;"
    case "D":
      detached = true
      return "OK"
    default: return ""
    }
  }

  private func serve() {
    let connection = retryingInterrupts { accept(listener, nil, nil) }
    close(listener)
    guard connection >= 0 else { return }
    defer { close(connection) }
    var byte: UInt8 = 0
    var body: [UInt8] = []
    var state = 0  // 0 outside a packet, 1 in its body, 2–3 in its checksum
    func send(_ bytes: [UInt8]) {
      _ = bytes.withUnsafeBytes { raw in
        retryingInterrupts { Glibc.send(connection, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
      }
    }
    while retryingInterrupts({ recv(connection, &byte, 1, 0) }) == 1 {
      switch state {
      case 0:
        if byte == UInt8(ascii: "$") {
          body = []
          state = 1
        } else if byte == 0x03 {
          send(Self.frame("T02thread:01;"))
        }
      case 1:
        if byte == UInt8(ascii: "#") { state = 2 } else { body.append(byte) }
      case 2: state = 3
      default:
        state = 0
        send([UInt8(ascii: "+")])
        var packet = String(decoding: body, as: UTF8.self)
        if packet.hasPrefix("vCont;c") { packet = "c" }
        if let answer = reply(packet) { send(Self.frame(answer)) }
      }
    }
  }
}
