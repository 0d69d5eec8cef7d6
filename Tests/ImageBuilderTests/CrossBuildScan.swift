// A demo image written for one build, read back with that build's ISF (CallScope's own reader of
// it): the families asked for, and their verdicts against the loaded-module list.

import Analysis
import Callbacks
import MemoryImage
import Symbols
import TestData
import Testing
import WindowsKernel

extension CrossBuildData {
  /// `families` of the image at `path` (written for `build`), scanned with the build's ISF;
  /// `moduleProfile` lends other modules' symbol files (fltmgr.pdb).
  static func scan(
    _ build: CrossBuild, path: String, buildNumber: Int, families: Set<String>,
    moduleProfile: @escaping @Sendable (LoadedModule) -> (any KernelProfile)? = { _ in nil }
  ) throws -> (
    results: [FamilyResult], verdicts: CallbackVerdicts
  ) {
    let memory = try MemoryImageOpener.open(path: path)
    let system = try KernelDiscovery.discover(memory: memory)
    let image = try #require(system.kernel)
    let profile = try ISFProfile(path: TestData.shared(build.isfPath).path)
    let kernel = Kernel(space: system.space, image: image, profile: profile)
    let results = CallbackScanner.scan(
      CallbackContext(kernel: kernel, build: buildNumber, moduleProfile: moduleProfile), selection: families)
    let (modules, _) = try ModuleList.read(kernel)
    return (results, CallbackVerdicts(results: results, kernel: kernel, modules: modules, hidden: []))
  }
}
