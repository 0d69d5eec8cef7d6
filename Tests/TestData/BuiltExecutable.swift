// The package's BUILT executables for tests that run them as a user would (a test target cannot
// depend on an executable target, so `swift build` runs before `swift test`).

import Foundation

extension TestData {
  /// The executable `name` of this package: beside the test bundle, beside the test runner, or in
  /// the package's .build/debug; an error saying where it looked.
  public static func builtExecutable(named name: String = "callscope") throws -> String {
    var candidates: [URL] = []
    let bundle = Bundle.main.bundleURL
    candidates.append(bundle.appendingPathComponent(name))
    candidates.append(bundle.deletingLastPathComponent().appendingPathComponent(name))
    if let argument = CommandLine.arguments.first {
      let executable = URL(fileURLWithPath: argument).resolvingSymlinksInPath()
      candidates.append(executable.deletingLastPathComponent().appendingPathComponent(name))
    }
    candidates.append(packageRoot.appendingPathComponent(".build/debug/\(name)"))
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
      return candidate.path
    }
    throw TestDataError.tool(
      "\(name) binary not found (looked in \(candidates.map(\.path).joined(separator: ", "))); "
        + "run `swift build` before `swift test`")
  }
}
