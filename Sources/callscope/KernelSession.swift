// Opens an image, discovers its kernel and loads the symbol profile: the common start of every
// command that walks kernel structures.

import AddressSpace
import ArgumentParser
import MemoryImage
import Reports
import Symbols
import WindowsKernel

/// An image with its kernel and profile ready.
struct KernelSession {
  let memory: any PhysicalMemory
  let system: DiscoveredSystem
  let kernel: Kernel
  let context: ReportContext
  /// The located profile when no symbol file matched (or --no-symbols).
  var located: LocatedProfile? { kernel.profile as? LocatedProfile }

  init(image: ImageOptions, symbols: SymbolOptions) throws {
    try self.init(memory: try image.open(), discovery: image.discoveryOptions, symbols: symbols)
  }

  /// The session over memory already open (a live guest's RAM for `watch`).
  init(memory: any PhysicalMemory, discovery: DiscoveryOptions, symbols: SymbolOptions) throws {
    let system = try KernelDiscovery.discover(memory: memory, options: discovery)
    guard let kernelImage = system.kernel else {
      throw ValidationError(system.kernelError?.description ?? "kernel not found; give --kernel-base")
    }
    let (profile, _) = try ProfileResolution.kernelProfile(
      memory: memory, system: system, image: kernelImage, options: symbols)
    self.memory = memory
    self.system = system
    self.kernel = Kernel(space: system.space, image: kernelImage, profile: profile)
    self.context = ReportContext(memory: memory, system: system, symbolSource: profile.source.rawValue)
  }

  /// The build number (third part of `major.minor.build[.revision]`), 0 when unknown.
  var buildNumber: Int { Int(context.build?.split(separator: ".").dropFirst(2).first ?? "") ?? 0 }
}
