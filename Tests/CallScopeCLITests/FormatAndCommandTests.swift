// Output shapes (CSV, JSON Lines), raw physical reads against the file's own bytes, a crash dump
// written by `convert` and read back, and the synthetic demo.

import Foundation
import TestData
import Testing

struct FormatAndCommandTests {
  static let clean = "win10-19041-clean"

  /// Fields of one CSV line (RFC 4180 quoting).
  static func csvFields(_ line: Substring) -> [String] {
    var fields: [String] = []
    var field = ""
    var quoted = false
    var iterator = line.makeIterator()
    while let c = iterator.next() {
      if quoted {
        if c == "\"" { quoted = false } else { field.append(c) }
      } else if c == "\"" {
        quoted = true
      } else if c == "," {
        fields.append(field)
        field = ""
      } else {
        field.append(c)
      }
    }
    fields.append(field)
    return fields
  }

  @Test func csvHasAHeaderAndOneRowPerTruthCallback() throws {
    let result = try CLI.run(["callbacks", "--offline", "--format", "csv", try CLI.image(Self.clean)])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    let header = Self.csvFields(try #require(lines.first))
    #expect(header.first == "family")
    #expect(header.contains("routine") && header.contains("module"))
    let truth = try #require(try CLI.truth(Self.clean)["callbacks"] as? [[String: Any]])
    #expect(lines.count - 1 == truth.count)
    let familyColumn = try #require(header.firstIndex(of: "family"))
    for line in lines.dropFirst() {
      let fields = Self.csvFields(line)
      #expect(fields.count == header.count, "\(line)")
      #expect(fields.indices.contains(familyColumn) && !fields[familyColumn].isEmpty)
    }
  }

  @Test func jsonLinesAreOneObjectPerCallback() throws {
    let result = try CLI.run(["callbacks", "--offline", "--format", "jsonl", try CLI.image(Self.clean)])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    let truth = try #require(try CLI.truth(Self.clean)["callbacks"] as? [[String: Any]])
    #expect(lines.count == truth.count)
    for line in lines {
      let object = try #require(try CLI.json(String(line)) as? [String: Any])
      #expect(object["family"] is String)
      #expect((object["routine"] as? String)?.hasPrefix("0x") == true)
    }
  }

  @Test func rawPhysicalReadEqualsTheFileBytes() throws {
    let path = try CLI.image(Self.clean)
    // The low stub page (truth low_stub.pa) and a range crossing a page boundary.
    let stub = try #require(CLI.number((try CLI.truth(Self.clean)["low_stub"] as? [String: Any])?["pa"]))
    for (address, length) in [(stub, 0xB0), (UInt64(0x1AF_F80), 0x100)] {
      let result = try CLI.run([
        "read", path, "--pa", "0x" + String(address, radix: 16), "--length", "\(length)", "--raw",
      ])
      #expect(result.status == 0, "\(result.stderr)")
      let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
      defer { try? handle.close() }
      try handle.seek(toOffset: address)
      let expected = try #require(try handle.read(upToCount: length))
      #expect(result.stdoutData == expected)
    }
  }

  @Test func convertedDumpHasTheSameKernelBaseAndDTB() throws {
    let path = try CLI.image(Self.clean)
    let out = try TestData.temporaryDirectory("cli").appendingPathComponent("clean.dmp").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    let convert = try CLI.run(["convert", path, "--to", "dmp", out])
    #expect(convert.status == 0, "\(convert.stderr)")
    let info = try CLI.run(["info", "--format", "json", out])
    #expect(info.status == 0, "\(info.stderr)")
    let json = try #require(try CLI.json(info.stdout) as? [String: Any])
    let kernel = try #require(json["kernel"] as? [String: Any])
    let truth = try CLI.truth(Self.clean)
    #expect(CLI.number(kernel["base"]) == CLI.number(truth["kernel_base"]))
    #expect(CLI.number(kernel["dtb"]) == CLI.number(truth["dtb"]))
    #expect((json["image"] as? [String: Any])?["format"] as? String != "raw")
  }

  @Test func demoShowsInfoAndCallbacksOfTheSyntheticImage() throws {
    let path = try TestData.temporaryDirectory("cli").appendingPathComponent("demo.raw").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let written = try TestData.run(try CLI.binary(named: "callscope-demo-image"), [path])
    try #require(written.status == 0, "\(written.stderr)")
    let result = try CLI.run(["demo", "--image", path])
    #expect(result.status == 0, "\(result.stderr)")
    let text = result.stdout
    #expect(text.contains("SYNTHETIC"))
    #expect(text.contains("$ callscope info"))
    #expect(text.contains("$ callscope callbacks"))
    #expect(text.contains("Kernel size:  0xe04000"))
    #expect(text.contains("ntkrnlmp.pdb 3177D31000BA7590DED335936C93E374 age 1"))
    for driver in ["DemoAV.sys", "DemoEDR.sys", "DemoNet.sys", "DemoDisk.sys", "outside-modules"] {
      #expect(text.contains(driver), "\(driver)")
    }
    #expect(text.contains("11 callbacks in 4 families, 1 flagged"))
  }

  @Test func demoWithoutAnImageSaysHowToWriteOne() throws {
    let missing = try TestData.temporaryDirectory("cli").appendingPathComponent("absent.raw").path
    let result = try CLI.run(["demo", "--image", missing])
    #expect(result.status != 0)
    #expect(result.stdout.isEmpty)
    #expect(result.stderr.contains("callscope-demo-image"))
  }
}
