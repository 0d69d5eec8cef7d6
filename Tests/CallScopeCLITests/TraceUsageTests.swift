// `callscope trace` usage errors and an absent stub: status 2 and a message naming the problem,
// without any guest.

import Foundation
import GDBRemote
import TestData
import Testing

@Suite struct TraceUsageTests {
  @Test(arguments: [
    (["--gdb", "127.0.0.1:1", "--count", "0"], "--count must be positive"),
    (["--gdb", "127.0.0.1:1", "--until", "soon"], "is not a duration"),
    (["--gdb", "127.0.0.1:1", "--count", "3", "--until", "2s"], "not both"),
    (["--gdb", "127.0.0.1:1", "--format", "csv"], "table or jsonl"),
    (["--gdb", "localhost"], "HOST:PORT expected"),
    (["--gdb", "127.0.0.1:70000"], "port is not a number"),
    (["--gdb", "127.0.0.1:1", "--qmp", "/tmp/q.sock"], "go with --ram"),
    (["--gdb", "127.0.0.1:1", "--ram", "/dev/null", "--ram-layout", "sideways"], "sideways"),
  ])
  func badUsageIsStatusTwo(_ arguments: [String], _ message: String) throws {
    let result = try CLI.run(["trace"] + arguments)
    #expect(result.status == 2)
    #expect(result.stderr.contains(message), "\(result.stderr)")
    #expect(result.stdout.isEmpty)
  }

  @Test func helpDescribesTheUnwindWalkRAMAndX86() throws {
    let result = try CLI.run(["trace", "--help"])
    #expect(result.status == 0)
    let text = result.stdout.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ")
    for phrase in [".pdata unwind", "EBP chain", "--ram", "--no-symbols", "[esp+4]", "PDB publics"] {
      #expect(text.contains(phrase), "\(phrase) missing from\n\(result.stdout)")
    }
    #expect(!text.contains("no unwind walk"))
  }

  @Test func noStubListeningIsStatusTwo() throws {
    // A port that was free a moment ago: nothing listens there.
    let port = try GDBStubGuest.freePort()
    let result = try CLI.run(["trace", "--gdb", "127.0.0.1:\(port)", "--timeout", "2"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("GDB stub 127.0.0.1:\(port): cannot connect"), "\(result.stderr)")
  }
}
