// One `watch` tick: a fresh kernel address space over the guest's RAM (translation caches are not
// kept across ticks: page tables change), every family, the modules, the processes and their
// KernelCallbackTables, read with the session's discovery and profile. A tick whose pages changed
// while it read them is read again once; if they changed again it is `smeared`.

import AddressSpace
import Analysis
import Callbacks
import Live
import Symbols
import WindowsKernel

#if canImport(Glibc)
  import Glibc
#endif

/// Reads the state of the guest, tick after tick.
final class WatchTicker {
  private(set) var session: KernelSession
  let discovery: DiscoveryOptions
  let ram: GuestRAM
  let symbolOptions: SymbolOptions
  /// Symbolizers by module (name and base), found once per loaded module.
  private var symbolizers: [String: ModuleSymbolizer?] = [:]
  /// The table expected from user32's PDB, found once.
  private var expectedFromPDB: ExpectedCallbackTable?
  private var triedPDB = false
  /// The first majority table with slots, kept so a table rewritten later is judged against it.
  private var keptTable: ExpectedCallbackTable?

  init(session: KernelSession, ram: GuestRAM, discovery: DiscoveryOptions, symbolOptions: SymbolOptions) {
    self.session = session
    self.discovery = discovery
    self.ram = ram
    self.symbolOptions = symbolOptions
  }

  /// The outcome of one tick.
  struct Outcome {
    /// The state read, nil when smeared.
    var snapshot: WatchSnapshot?
    /// Pages that changed while the last try read them.
    var changedPages: Int
    /// Milliseconds the reading took (both tries).
    var milliseconds: Double
    /// The kernel found anew this tick (the guest rebooted, or the file now holds another system).
    var rediscovered: KernelImage?
    /// Why no kernel could be found this tick (the previous state is kept; the next tick tries again).
    var kernelLost: String?
  }

  /// Reads the state, retrying once when the memory changed under the walk. The kernel check and
  /// the walk read within one kept page set, so a system rewritten meanwhile is noticed either way.
  func tick() throws -> Outcome {
    let start = Clock.now
    try ram.checkSource()
    var changed = 0
    var rediscovered: KernelImage?
    for _ in 0..<2 {
      ram.beginTick()
      do {
        if let kernel = try checkKernel() { rediscovered = kernel }
      } catch let error as LiveError {
        _ = try? ram.endTick()
        throw error
      } catch {
        _ = try? ram.endTick()
        return Outcome(
          snapshot: nil, changedPages: 0, milliseconds: Clock.milliseconds(since: start), rediscovered: rediscovered,
          kernelLost: String(describing: error))
      }
      let snapshot = read()
      WatchTestHook.beforeCheck()
      changed = try ram.endTick()
      if changed == 0 {
        // Only a state read whole sets the table later ticks are judged against.
        if expectedFromPDB == nil, keptTable == nil, let table = snapshot.expectedTable, !table.slots.isEmpty {
          keptTable = table
        }
        return Outcome(
          snapshot: snapshot, changedPages: 0, milliseconds: Clock.milliseconds(since: start),
          rediscovered: rediscovered)
      }
    }
    try ram.checkSource()  // a file truncated meanwhile is the reason, not a smear
    return Outcome(
      snapshot: nil, changedPages: changed, milliseconds: Clock.milliseconds(since: start), rediscovered: rediscovered)
  }

  /// Whether ntoskrnl is still where discovery found it, with the same PDB; if not, discovery (and,
  /// for another build, the profile) runs again. Returns the kernel found anew, nil when unchanged.
  private func checkKernel() throws -> KernelImage? {
    let base = session.kernel
    let space = VirtualAddressSpace(memory: ram, dtb: base.space.dtb, mode: base.space.mode)
    if let image = try? KernelLocator.validate(space: space, base: base.image.base), image.pdb == base.image.pdb {
      return nil
    }
    let fresh = try KernelSession(memory: ram, discovery: discovery, symbols: symbolOptions)
    session = fresh
    symbolizers.removeAll()
    expectedFromPDB = nil
    triedPDB = false
    keptTable = nil
    return fresh.kernel.image
  }

  /// One enumeration.
  func read() -> WatchSnapshot {
    let base = session.kernel
    let space = VirtualAddressSpace(memory: ram, dtb: base.space.dtb, mode: base.space.mode)
    let kernel = Kernel(space: space, image: base.image, profile: base.profile)
    let snapshot = WatchSnapshot(
      reading: kernel, build: session.buildNumber, expected: expectedFromPDB ?? keptTable,
      symbolizers: { self.symbolizers(for: $0, modules: $1, kernel: kernel) })
    guard !triedPDB, snapshot.gathered.contains(where: { $0.user32 != nil }) else { return snapshot }
    // user32's PDB is looked up once, on the first tick with a GUI process; that tick is read again
    // against it so every tick judges tables alike.
    triedPDB = true
    var ignored: [String] = []
    expectedFromPDB = KCTExpectation.fromPDB(
      snapshot.gathered, kernel: kernel, options: symbolOptions, warnings: &ignored)
    return expectedFromPDB == nil ? snapshot : read()
  }

  /// As `OwnerSymbols.symbolizers`, with each module's symbol table looked up once.
  private func symbolizers(for routines: [UInt64], modules: [LoadedModule], kernel: Kernel) -> [String:
    ModuleSymbolizer]
  {
    let resolver = OwnerResolver(modules: modules)
    var result: [String: ModuleSymbolizer] = [:]
    for routine in routines {
      guard let owner = resolver.owner(of: routine)?.module else { continue }
      let name = owner.name.lowercased()
      if result[name] != nil { continue }
      let key = "\(name)|\(owner.base)"
      if let cached = symbolizers[key] {
        if let cached { result[name] = cached }
        continue
      }
      let profile: (any KernelProfile)?
      if owner.base == kernel.image.base {
        profile = kernel.profile
      } else if let identity = ModuleSymbolizer.identity(of: owner, space: kernel.space) {
        profile = ProfileResolution.loadOptional(identity: identity, options: symbolOptions)
      } else {
        profile = nil
      }
      let symbolizer = profile.flatMap { ModuleSymbolizer(profile: $0) }
      symbolizers[key] = .some(symbolizer)
      if let symbolizer { result[name] = symbolizer }
    }
    return result
  }
}

/// Monotonic time.
enum Clock {
  static var now: UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)  // a monotonic clock is never negative
  }
  static func milliseconds(since start: UInt64) -> Double { Double(now &- start) / 1e6 }
}
