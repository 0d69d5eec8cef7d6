// The `image` and `kernel` objects every JSON report starts with (DESIGN.md, "JSON output").

import AddressSpace
import MemoryImage
import Symbols
import WindowsKernel

/// What every report says about the image and its kernel.
public struct ReportContext: Sendable {
  public var imagePath: String
  public var imageFormat: String
  public var imageSize: UInt64
  public var dtb: UInt64
  public var paging: PagingMode
  public var kernel: KernelImage?
  /// Build string: the version resource's file version, else KUSER_SHARED_DATA's major.minor.build.
  public var build: String?
  /// Which symbol source answered (`pdb`, `isf`, `bundled`, …), nil before symbols are loaded.
  public var symbolSource: String?

  public init(
    imagePath: String, imageFormat: String, imageSize: UInt64, dtb: UInt64, paging: PagingMode,
    kernel: KernelImage?, build: String?, symbolSource: String?
  ) {
    self.imagePath = imagePath
    self.imageFormat = imageFormat
    self.imageSize = imageSize
    self.dtb = dtb
    self.paging = paging
    self.kernel = kernel
    self.build = build
    self.symbolSource = symbolSource
  }

  /// The context of a discovered system.
  public init(memory: any PhysicalMemory, system: DiscoveredSystem, symbolSource: String? = nil) {
    var build = system.kernel?.fileVersion
    if build == nil, let v = SharedUserData.version(in: system.space) { build = "\(v.major).\(v.minor).\(v.build)" }
    self.init(
      imagePath: memory.path, imageFormat: memory.formatName, imageSize: memory.fileSize, dtb: system.space.dtb,
      paging: system.space.mode, kernel: system.kernel, build: build, symbolSource: symbolSource)
  }

  /// `"image": {path, format, size}`.
  public var imageJSON: JSONValue {
    .object([
      ("path", .string(imagePath)), ("format", .string(imageFormat)), ("size", .int(Int64(clamping: imageSize))),
    ])
  }

  /// `"kernel": {base, dtb, arch, paging, pdb, build, symbolSource}`.
  public var kernelJSON: JSONValue {
    let pdb: JSONValue =
      kernel.map {
        .object([("name", .string($0.pdb.name)), ("guid", .string($0.pdb.guid)), ("age", .int(Int64($0.pdb.age)))])
      } ?? .null
    return .object([
      ("base", kernel.map { .address($0.base) } ?? .null),
      ("dtb", .address(dtb)),
      ("arch", .string(paging.architecture)),
      ("paging", .string(paging.rawValue)),
      ("pdb", pdb),
      ("build", .string(build)),
      ("symbolSource", .string(symbolSource)),
    ])
  }

  /// The members every report starts with.
  public var header: [(String, JSONValue)] {
    [("schema", .string("callscope/1")), ("image", imageJSON), ("kernel", kernelJSON)]
  }
}
