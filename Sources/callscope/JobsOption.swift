// `--jobs N`: how many cores a pass over physical memory (carving) uses.

import ArgumentParser
import WindowsKernel

/// The `--jobs` option of the carving commands.
struct JobsOption: ParsableArguments {
  @Option(help: "Parallel jobs for --carve (default: the number of cores; output is the same for any value).")
  var jobs: Int?

  func validate() throws {
    if let jobs, !(1...1024).contains(jobs) { throw ValidationError("--jobs must be between 1 and 1024, not \(jobs)") }
  }

  /// The job count to use.
  var count: Int { jobs ?? PoolScanner.defaultJobs }
}
