// The `callscope` command: a thin layer over the library targets. Exit status per DESIGN.md:
// 0 done, 1 findings with --fail-on-findings, 2 bad usage or unreadable input.

import ArgumentParser
import BinaryReading

#if canImport(Glibc)
  import Glibc
#endif

@main
struct CallScope: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "callscope",
    abstract: "List every callback a Windows kernel will call, from a memory image.",
    discussion: """
      Reads raw/.vmem, LiME, ELF cores (QEMU, VirtualBox, virsh) and Windows crash dumps; finds the \
      page tables and ntoskrnl without symbols; uses PDBs, Volatility 3 ISF files or the profiles \
      bundled with CallScope. Exit status: 0 done, 1 findings (with --fail-on-findings), 2 bad usage \
      or unreadable input.
      """,
    subcommands: [
      InfoCommand.self, CallbacksCommand.self, KCTCommand.self, ObjectsCommand.self, ModulesCommand.self,
      ProcessesCommand.self, ReadCommand.self, ConvertCommand.self, DiffCommand.self, WatchCommand.self,
      SymbolsCommand.self, DemoCommand.self, TraceCommand.self,
    ])

  static func main() {
    SymbolsCommand.openPDB = ProfileResolution.openPDB
    do {
      var command = try parseAsRoot()
      try command.run()
      if let shrink = MappedFile.shrinkError() { throw shrink }
    } catch let exit as FindingsExit {
      if let shrink = MappedFile.shrinkError() {
        Terminal.standardError.write("callscope: \(shrink)\n")
        Foundation_exit(2)
      }
      Foundation_exit(exit.status)
    } catch let code as ExitCode where code != .success && code != .validationFailure {
      // The command printed its own message already.
      Foundation_exit(code == .failure ? 2 : code.rawValue)
    } catch {
      // A file that shrank under its mapping is the cause of whatever failed after it.
      if let shrink = MappedFile.shrinkError() {
        Terminal.standardError.write("callscope: \(shrink)\n")
        Foundation_exit(2)
      }
      let code = exitCode(for: error)
      if code == .success {
        print(fullMessage(for: error))
        Foundation_exit(0)
      }
      var message = fullMessage(for: error)
      if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
      Terminal.standardError.write("callscope: " + message + "\n")
      Foundation_exit(2)
    }
  }
}

/// Ends the program with status 1 after a report with findings (`--fail-on-findings`).
struct FindingsExit: Error {
  var status: Int32 = 1
}

private func Foundation_exit(_ code: Int32) -> Never {
  exit(code)
}
