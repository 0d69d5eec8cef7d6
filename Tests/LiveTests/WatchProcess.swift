// A running `callscope watch … --format jsonl`: its events read line by line as they come, a way to
// wait for one, and SIGINT/SIGTERM to end it. The process is killed when the test ends.

import Foundation
import TestData

#if canImport(Glibc)
  import Glibc
#endif

final class WatchProcess: @unchecked Sendable {
  // @unchecked: `lines`, `stderrText` and `finished` are touched only under `lock`.
  let process = Process()
  private let lock = NSCondition()
  private var lines: [[String: Any]] = []
  private var stderrText = ""
  private var outputDone = false

  /// Starts `callscope watch ARGUMENTS`, with `environment` added to the tests' own.
  init(arguments: [String], environment: [String: String] = [:]) throws {
    process.executableURL = URL(fileURLWithPath: try LiveCLI.binary())
    process.arguments = ["watch"] + arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let outHandle = out.fileHandleForReading
    let errHandle = err.fileHandleForReading
    Thread.detachNewThread { [self] in
      var pending = Data()
      while true {
        let chunk = outHandle.availableData
        if chunk.isEmpty { break }
        pending.append(chunk)
        while let newline = pending.firstIndex(of: 0x0a) {
          let line = pending[pending.startIndex..<newline]
          pending.removeSubrange(pending.startIndex...newline)
          let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
          lock.lock()
          lines.append(object ?? ["event": "unparsed", "text": String(decoding: line, as: UTF8.self)])
          lock.broadcast()
          lock.unlock()
        }
      }
      lock.lock()
      outputDone = true
      lock.broadcast()
      lock.unlock()
    }
    Thread.detachNewThread { [self] in
      let data = errHandle.readDataToEndOfFile()
      lock.lock()
      stderrText = String(decoding: data, as: UTF8.self)
      lock.unlock()
    }
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  /// Every line so far.
  var events: [[String: Any]] {
    lock.lock()
    defer { lock.unlock() }
    return lines
  }

  /// Waits until `predicate` holds for the lines so far (true) or `seconds` pass or output ends (false).
  func wait(seconds: Double, until predicate: ([[String: Any]]) -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    lock.lock()
    defer { lock.unlock() }
    while !predicate(lines) {
      if outputDone || !lock.wait(until: deadline) { return predicate(lines) }
    }
    return true
  }

  /// Number of `tick` lines so far.
  var ticks: Int { events.filter { $0["event"] as? String == "tick" }.count }

  /// Sends `signal` and waits up to `seconds` for the exit; returns the status (nil: still running, killed).
  func stop(signal: Int32 = SIGINT, seconds: Double = 20) -> Int32? {
    if process.isRunning { kill(process.processIdentifier, signal) }
    return waitExit(seconds: seconds)
  }

  /// Waits up to `seconds` for the exit; returns the status, or nil after killing a process that hung.
  func waitExit(seconds: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning, Date() < deadline { usleep(20_000) }
    guard !process.isRunning else {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      return nil
    }
    return process.terminationStatus
  }

  /// What the watch wrote on stderr (complete once it exited).
  var stderr: String {
    usleep(50_000)
    lock.lock()
    defer { lock.unlock() }
    return stderrText
  }
}
