// Reading saved reports for `callscope diff`: recognition by content and one test per bad input,
// each expecting its own clear error.

import Analysis
import Foundation
import TestData
import Testing

@Suite struct DiffReportInputTests {
  static func write(_ text: String, _ name: String = "r.json") throws -> String {
    let url = try TestData.temporaryDirectory("diff").appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
  }

  static let goodRow = """
    {"family":"process-notify","index":0,"routine":"0xfffff80365d7a0c0","module":"cng.sys",
     "offset":"0x20c0","symbol":null,"details":{"context":0},"flags":[]}
    """

  @Test func readsAMinimalReport() throws {
    let path = try Self.write(
      #"  {"schema": "callscope/1", "kernel": {"base": "0xfffff80360800000"}, "callbacks": [\#(Self.goodRow)]}"#)
    #expect(try CallbackSnapshot.isReport(path: path))
    let snapshot = try CallbackSnapshot(reportAt: path)
    #expect(snapshot.kernelBase == 0xffff_f803_6080_0000)
    #expect(snapshot.rows.count == 1)
    #expect(snapshot.rows.first?.offset == 0x20c0)
    #expect(snapshot.rows.first?.details["context"] == .number(0))
  }

  @Test func anImageIsNotAReport() throws {
    let path = try Self.write("\u{0}\u{0}\u{0}\u{0}{", "x.raw")
    #expect(try CallbackSnapshot.isReport(path: path) == false)
  }

  @Test func truncatedJSON() throws {
    let path = try Self.write(#"{"schema": "callscope/1", "callbacks": [{"family": "#)
    #expect {
      try CallbackSnapshot(reportAt: path)
    } throws: { error in
      guard case .malformedJSON(let p, _)? = error as? CallbackDiffError else { return false }
      return p == path && "\(error)".contains("malformed JSON")
    }
  }

  @Test func wrongSchema() throws {
    let path = try Self.write(#"{"schema": "callscope/2", "callbacks": []}"#)
    #expect(
      throws: CallbackDiffError.notACallbacksReport(
        path: path, reason: #"schema is "callscope/2", expected "callscope/1""#)
    ) {
      try CallbackSnapshot(reportAt: path)
    }
  }

  @Test func anotherCommandsReport() throws {
    let path = try Self.write(#"{"schema": "callscope/1", "processes": []}"#)
    #expect {
      try CallbackSnapshot(reportAt: path)
    } throws: { error in
      guard case .notACallbacksReport? = error as? CallbackDiffError else { return false }
      return true
    }
  }

  @Test func topLevelArray() throws {
    let path = try Self.write(#"[{"schema": "callscope/1"}]"#)
    #expect {
      try CallbackSnapshot(reportAt: path)
    } throws: { error in
      guard case .notACallbacksReport? = error as? CallbackDiffError else { return false }
      return true
    }
  }

  @Test func rowWithoutRoutine() throws {
    let path = try Self.write(#"{"schema": "callscope/1", "callbacks": [\#(Self.goodRow), {"family": "nmi"}]}"#)
    #expect(
      throws: CallbackDiffError.badRow(path: path, index: 1, member: "routine", expected: "an address string \"0x…\"")
    ) {
      try CallbackSnapshot(reportAt: path)
    }
  }

  @Test func rowWithModuleButNoOffset() throws {
    let path = try Self.write(
      #"{"schema": "callscope/1", "callbacks": [{"family": "nmi", "routine": "0x10", "module": "x.sys"}]}"#)
    #expect {
      try CallbackSnapshot(reportAt: path)
    } throws: { error in
      guard case .badRow(_, 0, "offset", _)? = error as? CallbackDiffError else { return false }
      return true
    }
  }

  @Test func indexBeyondInt() throws {
    let path = try Self.write(
      #"{"schema": "callscope/1", "callbacks": [{"family": "nmi", "routine": "0x10", "index": 1.5}]}"#)
    #expect {
      try CallbackSnapshot(reportAt: path)
    } throws: { error in
      guard case .badRow(_, 0, "index", _)? = error as? CallbackDiffError else { return false }
      return true
    }
  }

  @Test func nestedDetail() throws {
    let path = try Self.write(
      #"{"schema": "callscope/1", "callbacks": [{"family": "nmi", "routine": "0x10", "details": {"x": [1]}}]}"#)
    #expect {
      try CallbackSnapshot(reportAt: path)
    } throws: { error in
      guard case .badRow(_, 0, "details.x", _)? = error as? CallbackDiffError else { return false }
      return true
    }
  }

  @Test func missingFile() throws {
    #expect {
      try CallbackSnapshot.isReport(path: "/nonexistent/callscope-diff.json")
    } throws: { error in
      guard case .unreadable? = error as? CallbackDiffError else { return false }
      return true
    }
  }
}
