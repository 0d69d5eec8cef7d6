// `callscope trace --gdb HOST:PORT [--kernel-base ADDR] [--ram FILE]`: each nt!KeUserModeCallback a
// live guest makes, with the ApiNumber's __fn* name, the process and thread, and the user-mode caller —
// through QEMU's gdbstub, without a debug-mode guest.

import ArgumentParser
import Foundation
import GDBRemote
import Live
import PortableExecutable
import Reports
import Symbols

struct TraceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "trace",
    abstract: "Log each KeUserModeCallback of a running guest (QEMU gdbstub): callback name, process, caller.",
    discussion: """
      Connects to a GDB stub (QEMU: -gdb tcp:127.0.0.1:PORT), finds ntoskrnl (--kernel-base, else the KPCR \
      in GS base (x86: FS base) → its IDT → IDT entry 0's handler → the PE header below it), reads its PDB \
      identity and loads its profile from the symbol path; with --no-symbols, or when none matches, the \
      symbol-less profile (bundled layouts of the release, addresses from exports and code). The breakpoint \
      goes on nt!KeUserModeCallback (profile RVA, else the kernel's export). Per hit: ApiNumber (RCX on x64, \
      [esp+4] on x86), KPCR → KPRCB.CurrentThread → ApcState.Process → EPROCESS (pid, ImageFileName), Cid, \
      and the trap frame. The caller is the first user32 frame of the user stack, walked from the trap frame \
      with each module's .pdata unwind data (x86: the EBP chain), named by the module's exports and its PDB \
      publics when the PDB is on the symbol path; the __fn* name comes from user32's PDB. --ram FILE reads \
      memory from the guest's RAM file (QEMU memory-backend-file, share=on; layout as in watch) instead of \
      through the stub. On exit (count, --until, SIGINT, error) the breakpoint is removed and the guest \
      resumed. Status 2 when the stub fails (bad checksums, a reply cut short, the link gone) or a structure \
      cannot be read.
      """)

  @Option(name: .customLong("gdb"), help: "The GDB stub, HOST:PORT.")
  var gdb: String

  /// `--kernel-base` (default: found from the KPCR's IDT through the stub).
  @OptionGroup var kernel: KernelBaseOverride

  @Option(name: .customLong("process"), help: "Report only this process (name or PID; repeatable).")
  var processes: [String] = []

  @Option(help: "Stop after this many reported callbacks.")
  var count: Int?

  @Option(help: "Stop after this long (e.g. 10s, 500ms, 2m).")
  var until: String?

  @Option(help: "Output format: table (grouped, at the end) or jsonl (one line per callback as it happens).")
  var format: OutputFormat = .table

  @Option(help: "Seconds any single reply of the stub may take.")
  var timeout: Double = 5

  @OptionGroup var symbolOptions: SymbolOptions

  @Option(
    help: ArgumentHelp(
      "The guest's RAM (QEMU -object memory-backend-file,…,share=on, or /proc/PID/fd/N of a memfd): memory "
        + "is read from it instead of through the stub.", valueName: "file"))
  var ram: String?

  @Option(name: .customLong("ram-layout"), help: "Guest RAM layout in the --ram file: flat, pc, q35 or split:SIZE.")
  var ramLayout: String?

  @Option(help: "QEMU's QMP unix socket: the --ram file's layout from info mtree.")
  var qmp: String?

  func validate() throws {
    guard format == .table || format == .jsonl else { throw ValidationError("trace offers table or jsonl") }
    if let count, count <= 0 { throw ValidationError("--count must be positive") }
    if count != nil, until != nil { throw ValidationError("give --count or --until, not both") }
    if let until, TraceDuration.seconds(until) == nil {
      throw ValidationError("--until `\(until)` is not a duration such as 10s, 500ms or 2m")
    }
    if ram == nil, ramLayout != nil || qmp != nil { throw ValidationError("--ram-layout and --qmp go with --ram") }
    if let ramLayout {
      do { _ = try GuestRAMLayout(parsing: ramLayout, fileSize: 0) } catch { throw ValidationError(error.description) }
    }
    guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
  }

  func run() throws {
    let endpoint = try GDBEndpoint(parsing: gdb)
    TraceSignals.install()
    let client = try GDBClient(endpoint, timeout: timeout)
    let session: TraceSession
    do {
      _ = try client.haltReason()
      let memory = try memory(client)
      let architecture = TraceArchitecture.detect(client)
      let base = try kernel.kernelBase?.value ?? TraceKernelLocator.locate(memory, architecture: architecture)
      // Only the symbol-less walk through the stub needs CR3; its error is kept for that case.
      let cr3 = Result { try client.readRegister("cr3") }
      let found = try TraceKernel.find(base: base, memory: memory, cr3: cr3, symbols: symbolOptions)
      if let reason = found.symbolLess {
        Terminal.standardError.write(
          "callscope trace: no symbol file used (\(reason)): \(found.profile.sourceDescription); "
            + "breakpoint at 0x\(String(found.breakpoint, radix: 16)) from the \(found.breakpointSource)\n")
      }
      session = try TraceSession(
        memory: memory, layout: try TraceLayout(profile: found.profile, architecture: architecture),
        architecture: architecture, breakpoint: found.breakpoint,
        filters: processes.map(TraceProcessFilter.init), symbols: symbolOptions)
    } catch {
      // Nothing is patched yet: just let the guest run on.
      try? client.detach()
      client.close()
      throw error
    }
    let jsonl = format == .jsonl
    let progress = Terminal.standardError.isTerminal
    let events: [TraceEvent]
    do {
      events = try session.run(count: count, until: until.flatMap(TraceDuration.seconds)) { event in
        if jsonl { Terminal.standardOutput.write(event.json.serialized(pretty: false) + "\n") }
        if progress { Terminal.standardError.write("\r\(event.index) hits") }
      }
    } catch {
      let problems = session.finish()
      throw ValidationError(
        "trace stopped: \(error)" + problems.map { "; \($0)" }.joined()
          + (problems.isEmpty ? "; breakpoint removed, guest resumed" : ""))
    }
    let problems = session.finish()
    if progress { Terminal.standardError.write("\r") }
    var summary = session.summary
    summary.warnings += problems
    if jsonl {
      Terminal.standardOutput.write(summary.json(events).serialized(pretty: false) + "\n")
    } else {
      Terminal.standardOutput.write(summary.table(events))
    }
    if !problems.isEmpty { throw ValidationError(problems.joined(separator: "; ")) }
  }

  /// The stub's client and the memory reads go through: the `--ram` file when given (its CR3-selected
  /// address space starting at the stopped CPU's), else `m` packets.
  func memory(_ client: GDBClient) throws -> TraceMemory {
    guard let ram else { return TraceMemory(client: client) }
    let source = try WatchSource.open(
      path: ram, ramLayout: ramLayout, qmpPath: qmp, notes: { Terminal.standardError.write("callscope trace: \($0)\n") }
    )
    let cr3: UInt64
    do { cr3 = try client.readRegister("cr3") } catch {
      throw TraceError.kernel("--ram needs the stub's cr3 register: \(error)")
    }
    let mode = try TraceRAM.pagingMode(client)
    return TraceMemory(
      client: client, ram: TraceRAM(ram: source.ram, layoutSource: source.layoutSource, mode: mode, cr3: cr3))
  }
}

/// `10s`, `500ms`, `2m`, `1h`, or plain seconds.
enum TraceDuration {
  static func seconds(_ text: String) -> Double? {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      guard let value = Double(text.dropLast(suffix.count)), value > 0, value.isFinite else { return nil }
      return value * scale
    }
    guard let value = Double(text), value > 0, value.isFinite else { return nil }
    return value
  }
}
