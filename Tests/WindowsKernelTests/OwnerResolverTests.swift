// OwnerResolver: half-open module ranges, the preference when ranges overlap (the loader's list,
// then a carved loader entry, then a driver object), the `module!symbol+0x…` text, and the owners
// of the rootkit image's callbacks against the truth's `owner_image` / `module_offset`.

import TestData
import Testing
import WindowsKernel

@Suite struct OwnerResolverTests {
  static func module(_ name: String, _ base: UInt64, _ size: UInt64, _ origin: ModuleOrigin) -> LoadedModule {
    LoadedModule(
      name: name, path: "\\SystemRoot\\system32\\drivers\\\(name)", base: base, size: size, entry: 0, origin: origin)
  }

  @Test func rangesAreHalfOpen() {
    let resolver = OwnerResolver(modules: [
      Self.module("a.sys", 0xffff_f800_0000_1000, 0x100, .loadedModuleList),
      Self.module("b.sys", 0xffff_f800_0000_1100, 0x100, .loadedModuleList),
    ])
    #expect(resolver.owner(of: 0xffff_f800_0000_0fff) == nil)
    #expect(resolver.owner(of: 0xffff_f800_0000_1000)?.module.name == "a.sys")
    #expect(resolver.owner(of: 0xffff_f800_0000_1000)?.offset == 0)
    #expect(resolver.owner(of: 0xffff_f800_0000_10ff)?.module.name == "a.sys")
    #expect(resolver.owner(of: 0xffff_f800_0000_10ff)?.offset == 0xff)
    // base + size belongs to the next module, not to a.sys.
    #expect(resolver.owner(of: 0xffff_f800_0000_1100)?.module.name == "b.sys")
    #expect(resolver.owner(of: 0xffff_f800_0000_1100)?.offset == 0)
    #expect(resolver.owner(of: 0xffff_f800_0000_1200) == nil)
    #expect(resolver.owner(of: 0) == nil)
    #expect(resolver.owner(of: .max) == nil)
  }

  @Test func emptyAndTopOfAddressSpaceModules() {
    let resolver = OwnerResolver(modules: [
      Self.module("empty.sys", 0xffff_f800_0000_0000, 0, .loadedModuleList),
      Self.module("top.sys", 0xffff_ffff_ffff_f000, 0x1000, .loadedModuleList),
    ])
    #expect(resolver.owner(of: 0xffff_f800_0000_0000) == nil, "a zero-sized module owns nothing")
    #expect(resolver.owner(of: 0xffff_ffff_ffff_ffff)?.module.name == "top.sys")
    #expect(resolver.owner(of: 0xffff_ffff_ffff_ffff)?.offset == 0xfff)
  }

  @Test func overlappingRangesPreferListThenCarvedThenDriverObject() {
    let modules = [
      Self.module("driver", 0xffff_f800_0000_f000, 0x4000, .driverObject),
      Self.module("carved.sys", 0xffff_f800_0001_0000, 0x2000, .carved),
      Self.module("listed.sys", 0xffff_f800_0001_0000, 0x1000, .loadedModuleList),
    ]
    // Insertion order must not matter.
    for resolver in [OwnerResolver(modules: modules), OwnerResolver(modules: modules.reversed())] {
      #expect(resolver.owner(of: 0xffff_f800_0000_f800)?.module.name == "driver")
      #expect(resolver.owner(of: 0xffff_f800_0001_0000)?.module.name == "listed.sys")
      #expect(resolver.owner(of: 0xffff_f800_0001_0fff)?.module.name == "listed.sys")
      #expect(resolver.owner(of: 0xffff_f800_0001_1000)?.module.name == "carved.sys")
      #expect(resolver.owner(of: 0xffff_f800_0001_1000)?.offset == 0x1000)
      #expect(resolver.owner(of: 0xffff_f800_0001_2000)?.module.name == "driver")
      #expect(resolver.owner(of: 0xffff_f800_0001_2000)?.offset == 0x3000)
      #expect(resolver.owner(of: 0xffff_f800_0001_3000) == nil)
    }
  }

  @Test func symbolizerTextIsModuleBangSymbolPlusOffset() {
    let symbolize: @Sendable (UInt64) -> (String, UInt64)? = { rva in
      switch rva {
      case 0x100..<0x200: return ("MpCreateProcessNotifyRoutine", 0x100)
      case 0x200..<0x300: return ("MpLoadImageNotifyRoutine", 0x200)
      default: return nil
      }
    }
    let resolver = OwnerResolver(
      modules: [Self.module("WdFilter.sys", 0xffff_f800_0002_0000, 0x1000, .loadedModuleList)],
      symbolizers: ["wdfilter.sys": symbolize])
    let exact = resolver.owner(of: 0xffff_f800_0002_0100)
    #expect(exact?.symbol == "WdFilter!MpCreateProcessNotifyRoutine+0x0")
    #expect(exact?.moduleOffsetText == "WdFilter.sys+0x100")
    let inside = resolver.owner(of: 0xffff_f800_0002_02a4)
    #expect(inside?.symbol == "WdFilter!MpLoadImageNotifyRoutine+0xa4")
    #expect(inside?.offset == 0x2a4)
    let unnamed = resolver.owner(of: 0xffff_f800_0002_0010)
    #expect(unnamed?.module.name == "WdFilter.sys")
    #expect(unnamed?.symbol == nil)
    #expect(unnamed?.moduleOffsetText == "WdFilter.sys+0x10")
  }

  /// Every rootkit callback routine's owner: the truth's `owner_image` (nil for anonymous memory),
  /// with `module_offset` when the owner is a listed module.
  @Test func rootkitCallbackOwnersMatchTruth() throws {
    let name = "win10-19041-rootkit"
    let fixture = try KernelFixture.image(name)
    let truth = try KernelFixture.truth(name)
    let (listed, _) = try ModuleList.read(fixture.kernel)
    let hits = PoolScanner.scan(fixture.memory, tags: [ModuleCarver.tag], pointerSize: fixture.kernel.pointerSize)
    let carved = ModuleCarver.carve(fixture.kernel, hits: hits, excluding: Set(listed.map(\.base)))
    let (drivers, _) = DriverObjectModules.read(try ObjectManager(kernel: fixture.kernel))
    let all = listed + carved + DriverObjectModules.modules(drivers, excluding: listed + carved)
    let resolver = OwnerResolver(modules: all)
    var checked = 0
    var anonymous = 0
    for row in try truth.rows("callbacks") {
      guard let function = TestData.hex(row["function"]), function != 0 else { continue }
      let owner = resolver.owner(of: function)
      checked += 1
      guard let image = row["owner_image"] as? String else {
        anonymous += 1
        #expect(owner == nil, "\(row["function_name"] ?? "?") at \(hexText(function)) has no owner in the truth")
        continue
      }
      #expect(owner?.module.name.lowercased() == image.lowercased(), "\(hexText(function))")
      if row["module"] is String {
        #expect(owner?.module.origin == .loadedModuleList)
        #expect(owner?.offset == TestData.hex(row["module_offset"]))
      } else {
        #expect(owner?.module.origin == .carved, "\(image) is not in the list: its carved entry owns it")
      }
    }
    #expect(checked > 100)
    #expect(anonymous > 0)
  }
}
