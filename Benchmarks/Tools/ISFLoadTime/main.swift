// Times ISFProfile(path:) in process for scripts/bench's side-by-side with Volatility 3: loads the
// file RUNS times (after one warm-up) and prints the median wall and CPU (process) seconds as JSON.
// Usage: isf-load-time FILE.json.xz [RUNS]

import Foundation
import Symbols

/// Seconds of CPU time this process has used (user + system).
func processCPUSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Seconds on a monotonic clock.
func wallSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
  FileHandle.standardError.write(Data("usage: isf-load-time FILE.json[.xz|.gz] [RUNS]\n".utf8))
  exit(2)
}
let path = arguments[1]
let runs = max(1, arguments.count >= 3 ? Int(arguments[2]) ?? 10 : 10)
var wall: [Double] = []
var cpu: [Double] = []
do {
  for i in 0...runs {
    let (w0, c0) = (wallSeconds(), processCPUSeconds())
    let profile = try ISFProfile(path: path)
    guard profile.field("_EPROCESS", "ActiveProcessLinks") != nil else {
      FileHandle.standardError.write(Data("\(path): no _EPROCESS.ActiveProcessLinks\n".utf8))
      exit(1)
    }
    if i > 0 {  // run 0 is the warm-up
      wall.append(wallSeconds() - w0)
      cpu.append(processCPUSeconds() - c0)
    }
  }
} catch {
  FileHandle.standardError.write(Data("\(error)\n".utf8))
  exit(1)
}
wall.sort()
cpu.sort()
print("{\"runs\": \(wall.count), \"median\": \(wall[wall.count / 2]), \"cpu\": \(cpu[cpu.count / 2])}")
