// `callscope trace` on the boot guest under QEMU (KVM when usable, else TCG: TraceQEMU): the logged
// callbacks must be exactly the guest's sequence — ApiNumber, the __fn* name of that slot in the C
// source of the user32 built for it (named through its PDB), pid, process, tid, caller (user32 export
// from llvm-readobj, or a PDB public from llvm-pdbutil, + the offset planted in the trap frame) — the
// process filter must keep only that process's hits, and the guest must run on unpatched after the
// trace (count reached or SIGINT).

import Foundation
import GDBRemote
import TestData
import Testing

@Suite(.serialized) struct TraceCLITests {
  /// The built guest, shared by the tests (built once).
  nonisolated(unsafe) static var cached: TraceGuest?
  static func guest() throws -> TraceGuest {
    if let cached { return cached }
    let built = try TraceGuest.build()
    cached = built
    return built
  }

  /// QEMU running the guest past its boot (TraceQEMU: the fastest accelerator); the stub is free again.
  static func boot(_ guest: TraceGuest, ramFile: String? = nil) throws -> GDBStubGuest {
    try TraceQEMU.boot(guest, ramFile: ramFile)
  }

  static func arguments(_ guest: TraceGuest, _ qemu: GDBStubGuest, _ extra: [String]) -> [String] {
    [
      "trace", "--gdb", qemu.address, "--kernel-base", "0x" + String(guest.kernelBase, radix: 16), "--offline",
      "--symbols", guest.isf.path, "--symbols", guest.user32.directory.path,
    ] + extra
  }

  /// The JSON objects of JSON Lines output.
  static func records(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map {
      guard let object = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else {
        throw CLI.Missing(description: "not a JSON object: \($0)")
      }
      return object
    }
  }

  /// What `trace` must say for sequence entry `i`.
  static func expected(_ guest: TraceGuest, entry i: Int) -> (
    index: Int, name: String, pid: UInt64, process: String, tid: UInt64, caller: String, rip: UInt64,
    ripSymbol: String
  ) {
    let (threadIndex, api) = TraceGuest.sequence[i]
    let thread = TraceGuest.threads[threadIndex]
    let process = TraceGuest.processes[thread.process]
    var rip = guest.user32.imageBase + (guest.user32.rva(of: thread.caller) ?? 0) + thread.callerOffset
    let caller = "user32!\(thread.caller)+0x\(String(thread.callerOffset, radix: 16))"
    var ripSymbol = caller
    if let stub = thread.stub {
      rip = guest.user32.imageBase + TraceGuest.win32uOffset + (guest.user32.exports[stub.export] ?? 0) + stub.offset
      ripSymbol = "win32u!\(stub.export)+0x\(String(stub.offset, radix: 16))"
    }
    return (api, TraceUser32.slots[api], process.pid, process.name, thread.tid, caller, rip, ripSymbol)
  }

  /// Checks `events` against the sequence `entries` (indices into TraceGuest.sequence), cyclically from
  /// some starting point.
  static func checkSequence(_ events: [[String: Any]], guest: TraceGuest, entries: [Int]) {
    let matches = entries.indices.first { start in
      events.indices.allSatisfy { k in
        let e = expected(guest, entry: entries[(start + k) % entries.count])
        return events[k]["index"] as? Int == e.index && events[k]["pid"] as? Int == Int(e.pid)
          && events[k]["tid"] as? Int == Int(e.tid)
      }
    }
    guard let start = matches else {
      Issue.record("events \(events.map { "\($0["index"] ?? "?")/\($0["pid"] ?? "?")" }) are not the sequence")
      return
    }
    for (k, event) in events.enumerated() {
      let e = expected(guest, entry: entries[(start + k) % entries.count])
      #expect(event["schema"] as? String == "callscope/1")
      #expect(event["event"] as? String == "callback")
      #expect(event["name"] as? String == e.name)
      #expect(event["process"] as? String == e.process)
      #expect(event["caller"] as? String == e.caller)
      #expect(event["trapFrameRip"] as? String == "0x" + String(e.rip, radix: 16))
      #expect(event["trapFrameSymbol"] as? String == e.ripSymbol)
      #expect((event["time"] as? String)?.hasSuffix("Z") == true)
    }
  }

  /// After the trace: the guest runs (its round counter grows) and does not stop at KeUserModeCallback.
  static func checkResumedAndUnpatched(_ guest: TraceGuest, _ qemu: GDBStubGuest) throws {
    let client = try GDBClient(try GDBEndpoint(parsing: qemu.address))
    defer { client.close() }
    let before = try client.readUnsigned(guest.roundsCounter, width: 8)
    try client.resume()
    #expect(try client.waitForStop(timeout: 0.5) == nil, "the guest stopped by itself: a breakpoint was left")
    let stop = try client.interrupt()
    #expect(stop.kind == .signal(2))
    let after = try client.readUnsigned(guest.roundsCounter, width: 8)
    #expect(after > before, "the guest did not run after the trace")
    #expect(try client.readMemory(guest.keUserModeCallback, count: 3) == [0x31, 0xC0, 0xC3])
    try client.detach()
  }

  @Test func jsonlLogsExactlyTheSequence() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    let count = 3 * TraceGuest.sequence.count + 3
    let result = try CLI.run(Self.arguments(guest, qemu, ["--count", String(count), "--format", "jsonl"]))
    #expect(result.status == 0, "\(result.stderr)")
    let records = try Self.records(result.stdout)
    let events = records.filter { $0["event"] as? String == "callback" }
    #expect(events.count == count)
    Self.checkSequence(events, guest: guest, entries: TraceGuest.reportable)
    let summary = try #require(records.last)
    #expect(summary["event"] as? String == "summary")
    #expect(summary["reported"] as? Int == count)
    #expect(summary["filteredOut"] as? Int == 0)
    // The torn thread's hits: one per round, each a warning naming the structure and its address.
    let unreadable = try #require(summary["unreadable"] as? Int)
    #expect(
      unreadable >= count / TraceGuest.reportable.count - 1 && unreadable <= count / TraceGuest.reportable.count + 1)
    let warnings = (summary["warnings"] as? [String]) ?? []
    #expect(warnings.count == min(unreadable, 20))
    #expect(
      warnings.allSatisfy { $0.contains("EPROCESS.UniqueProcessId/ImageFileName at 0xffffc0de00000") }, "\(warnings)")
    try Self.checkResumedAndUnpatched(guest, qemu)
  }

  @Test func kernelFoundWithoutKernelBase() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    var arguments = Self.arguments(guest, qemu, ["--count", "12", "--format", "jsonl"])
    let at = try #require(arguments.firstIndex(of: "--kernel-base"))
    arguments.removeSubrange(at...(at + 1))
    let result = try CLI.run(arguments)
    #expect(result.status == 0, "\(result.stderr)")
    let events = try Self.records(result.stdout).filter { $0["event"] as? String == "callback" }
    #expect(events.count == 12)
    Self.checkSequence(events, guest: guest, entries: TraceGuest.reportable)
    try Self.checkResumedAndUnpatched(guest, qemu)
  }

  @Test func withoutUser32PDBCallbacksHaveTheIndexOnly() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    var arguments = Self.arguments(guest, qemu, ["--count", "10", "--format", "jsonl"])
    let at = try #require(arguments.lastIndex(of: "--symbols"))
    arguments.removeSubrange(at...(at + 1))  // the user32 folder
    let result = try CLI.run(arguments)
    #expect(result.status == 0, "\(result.stderr)")
    let records = try Self.records(result.stdout)
    let events = records.filter { $0["event"] as? String == "callback" }
    #expect(events.count == 10)
    #expect(events.allSatisfy { $0["name"] is NSNull && $0["index"] is Int && $0["caller"] is String })
    // Without the PDB, the function user32 does not export is named by the export below it.
    #expect(!events.contains { ($0["caller"] as? String)?.contains(TraceUser32.internalCaller) == true })
    let warnings = (records.last?["warnings"] as? [String]) ?? []
    #expect(warnings.contains { $0.contains("user32.pdb") && $0.contains("index only") }, "\(warnings)")
    try Self.checkResumedAndUnpatched(guest, qemu)
  }

  @Test func nonExportedCallerNamedFromThePDB() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    let thread = try #require(TraceGuest.threads.first { $0.caller == TraceUser32.internalCaller })
    let result = try CLI.run(
      Self.arguments(
        guest, qemu, ["--process", TraceGuest.processes[thread.process].name, "--count", "12", "--format", "jsonl"]))
    #expect(result.status == 0, "\(result.stderr)")
    let rva = try #require(guest.user32.publics[TraceUser32.internalCaller])  // llvm-pdbutil
    #expect(guest.user32.exports.values.contains(rva) == false)
    let events = try Self.records(result.stdout).filter { $0["tid"] as? Int == Int(thread.tid) }
    #expect(!events.isEmpty)
    let caller = "user32!\(TraceUser32.internalCaller)+0x\(String(thread.callerOffset, radix: 16))"
    #expect(events.allSatisfy { $0["caller"] as? String == caller && $0["trapFrameSymbol"] as? String == caller })
    try Self.checkResumedAndUnpatched(guest, qemu)
  }

  @Test func processFilterKeepsOnlyThatProcess() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    let result = try CLI.run(
      Self.arguments(guest, qemu, ["--process", "notepad.exe", "--count", "12", "--format", "jsonl"]))
    #expect(result.status == 0, "\(result.stderr)")
    let records = try Self.records(result.stdout)
    let events = records.filter { $0["event"] as? String == "callback" }
    #expect(events.count == 12)
    let notepad = TraceGuest.sequence.indices.filter { TraceGuest.threads[TraceGuest.sequence[$0].thread].process == 1 }
    Self.checkSequence(events, guest: guest, entries: notepad)
    let summary = try #require(records.last)
    // The sequence alternates processes: every notepad hit comes with explorer hits filtered out.
    let filtered = try #require(summary["filteredOut"] as? Int)
    let perRound = TraceGuest.sequence.count - notepad.count
    #expect(filtered >= 12 / notepad.count * perRound - perRound && filtered <= (12 / notepad.count + 2) * perRound)
    // By PID too.
    let byPid = try CLI.run(
      Self.arguments(
        guest, qemu, ["--process", String(TraceGuest.processes[0].pid), "--count", "5", "--format", "jsonl"]))
    #expect(byPid.status == 0, "\(byPid.stderr)")
    let pidEvents = try Self.records(byPid.stdout).filter { $0["event"] as? String == "callback" }
    #expect(pidEvents.count == 5)
    #expect(pidEvents.allSatisfy { $0["process"] as? String == "explorer.exe" })
    try Self.checkResumedAndUnpatched(guest, qemu)
  }

  @Test func tableGroupsByProcessCallbackAndCaller() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    let rounds = 2
    let result = try CLI.run(
      Self.arguments(guest, qemu, ["--count", String(rounds * TraceGuest.reportable.count), "--format", "table"]))
    #expect(result.status == 0, "\(result.stderr)")
    // Every (process, index, caller) of the sequence appears as a row with its name.
    for i in TraceGuest.reportable {
      let e = Self.expected(guest, entry: i)
      let row = result.stdout.split(separator: "\n").first {
        $0.contains(e.process) && $0.contains(" \(e.name) ") && $0.contains(e.caller)
      }
      #expect(row != nil, "no row for \(e.process) \(e.name) \(e.caller) in\n\(result.stdout)")
    }
    #expect(result.stdout.contains("Summary: \(rounds * TraceGuest.reportable.count) callbacks reported"))
    try Self.checkResumedAndUnpatched(guest, qemu)
  }

  /// Reads from `handle` until a first complete line arrived (at most 60 s); what was read.
  static func firstLine(_ handle: FileHandle) -> Data {
    var data = Data()
    let deadline = Date().addingTimeInterval(60)
    while !data.contains(0x0A), Date() < deadline {
      let chunk = handle.availableData
      if chunk.isEmpty { break }
      data.append(chunk)
    }
    return data
  }

  @Test func sigintRemovesTheBreakpointAndResumes() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try CLI.binary())
    process.arguments = Self.arguments(guest, qemu, ["--format", "jsonl"])
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    var data = Self.firstLine(out.fileHandleForReading)
    process.interrupt()
    data.append(out.fileHandleForReading.readDataToEndOfFile())
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let records = try Self.records(String(decoding: data, as: UTF8.self))
    let summary = try #require(records.last)
    #expect(summary["event"] as? String == "summary")
    #expect(summary["stopped"] as? String == "interrupted")
    #expect((summary["reported"] as? Int ?? 0) > 0)
    try Self.checkResumedAndUnpatched(guest, qemu)
  }

  @Test func refusedBreakpointIsStatusTwoAndTheGuestRuns() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    let proxy = try TraceFaultyProxy(upstream: qemu.port, fault: .refuseBreakpoints)
    var arguments = Self.arguments(guest, qemu, ["--count", "3"])
    arguments[2] = "127.0.0.1:\(proxy.port)"
    let result = try CLI.run(arguments)
    #expect(result.status == 2)
    let address = "0x" + String(guest.keUserModeCallback, radix: 16)
    #expect(
      result.stderr.contains("cannot set a breakpoint on nt!KeUserModeCallback at \(address)")
        && result.stderr.contains("E01"), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
    proxy.finish()
    try Self.checkResumedAndUnpatched(guest, qemu)
  }

  @Test func stubVanishingMidTraceIsStatusTwo() throws {
    let guest = try Self.guest()
    let qemu = try Self.boot(guest)
    defer { qemu.stop() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try CLI.binary())
    process.arguments = Self.arguments(guest, qemu, ["--format", "jsonl", "--timeout", "2"])
    let err = Pipe()
    let out = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    _ = Self.firstLine(out.fileHandleForReading)  // tracing now
    qemu.stop()
    _ = out.fileHandleForReading.readDataToEndOfFile()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 2)
    #expect(message.contains("trace stopped: GDB stub 127.0.0.1:\(qemu.port)"), "\(message)")
  }
}
