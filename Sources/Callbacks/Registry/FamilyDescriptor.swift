// A callback family declared once. The scanner's readers and their order, `--family list`, the
// symbols and structs the bundled profiles keep, the locators that find the heads without a symbol
// file, the family's own verdict rules and the README's family table all come from these values;
// adding a family is one descriptor file, one line in FamilyDescriptor.all, its planting and tests.

import Symbols
import WindowsKernel

/// One callback family: what registers into it, where its registrations hang, how to find and read them.
public struct FamilyDescriptor: Sendable {
  /// The family id (`process-notify`): JSON `family`, `--family`.
  public let id: String
  /// What the family is, in a few words (the family table's first column after the id).
  public let title: String
  /// The routine(s) or act that put a routine there (`PsSetCreateProcessNotifyRoutine(Ex/Ex2)`,
  /// or for tables a driver fills itself, what fills them).
  public let registration: String
  /// The kernel variables the reader starts from, in the order it tries them (the first present is used).
  public let heads: [FamilyHead]
  /// Further kernel symbols the reader, its locators or its verdicts read (counters, registration
  /// routines the patterns start from): kept in the bundled profiles.
  public let symbols: [String]
  /// Structs whose layouts the reader takes from the profile: kept with every field in the bundled profiles.
  public let structs: [String]
  /// Builds the family exists on (the first build whose kernel has it, onwards).
  public let builds: ClosedRange<Int>
  /// Locator recipes beyond the heads' own (counters, content scans), per build (0: unknown).
  public let recipes: @Sendable (_ build: Int) -> [HeadRecipe]
  /// Flags only this family raises (its reader puts their ids in `CallbackEntry.flags`).
  public let rules: [VerdictRule]
  /// The reader. Several descriptors may share one reader that serves several ids; it runs once.
  public let reader: any CallbackFamily
  /// Which of its entries a report lists when the family is not asked for by name.
  public let listing: EntryListing

  public init(
    id: String, title: String, registration: String, heads: [FamilyHead], symbols: [String] = [],
    structs: [String] = [], builds: ClosedRange<Int> = 0...Int.max,
    recipes: @escaping @Sendable (_ build: Int) -> [HeadRecipe] = { _ in [] }, rules: [VerdictRule] = [],
    listing: EntryListing = .everyEntry, reader: any CallbackFamily
  ) {
    self.id = id
    self.title = title
    self.registration = registration
    self.heads = heads
    self.symbols = symbols
    self.structs = structs
    self.builds = builds
    self.recipes = recipes
    self.rules = rules
    self.listing = listing
    self.reader = reader
  }

  /// Whether `profile` names one of the heads; a head in another module (fltmgr's) is not the
  /// kernel's to name, so such a family is present wherever its builds say.
  public func isPresent(in profile: any KernelProfile) -> Bool {
    heads.contains { head in
      if case .module = head.location { return true }
      return profile.symbol(head.symbol) != nil
    }
  }

  /// Every kernel symbol the family needs kept: its heads (other modules' left out), then `symbols`.
  public var bundledSymbols: [String] {
    heads.filter { if case .module = $0.location { return false } else { return true } }.map(\.symbol) + symbols
  }
}

/// Which entries of a family a report lists by default.
public enum EntryListing: Sendable {
  /// Every entry: each registration is something a driver chose to do.
  case everyEntry
  /// Only the entries a rule flags: the family is a table or queue every system fills in bulk (the
  /// service table, driver dispatch slots, timer DPCs), so the rest are counted, and listed when the
  /// family is asked for by name or every entry is asked for.
  case deviations
}

/// One kernel variable a family starts from, and how it is found without a symbol file.
public struct FamilyHead: Sendable {
  /// The variable's name in the kernel's PDB.
  public let symbol: String
  /// How it is found when no symbol file names it.
  public let location: HeadLocation
  /// Builds where the variable exists.
  public let builds: ClosedRange<Int>

  /// The name listings print: the symbol, prefixed with its module when it is not the kernel's
  /// (`fltmgr!FltGlobals`).
  public var displayName: String {
    guard case .module(let module) = location else { return symbol }
    return (module.split(separator: ".").first.map(String.init) ?? module) + "!" + symbol
  }

  public init(_ symbol: String, _ location: HeadLocation, builds: ClosedRange<Int> = 0...Int.max) {
    self.symbol = symbol
    self.location = location
    self.builds = builds
  }
}

/// How a head is found without a symbol file.
public enum HeadLocation: Sendable {
  /// Referenced by the code of these exports (registration first, removal after): the candidates
  /// the references give must have `shape`, then the family's reader must read them cleanly.
  /// `condition`: only the path a `cmp reg, imm; je` dispatch takes for that value (one export
  /// serving several heads); `discriminator`: a value every entry carries that tells sibling heads apart.
  case code(
    exports: [String], shape: HeadShape, filter: ReferenceFilter = .addressOrAccess, condition: Int64? = nil,
    discriminator: HeadDiscriminator? = nil)
  /// By its own recipe (a content scan, a derivation from other located data).
  case recipe(@Sendable (_ build: Int) -> HeadRecipe)
  /// ntoskrnl exports the variable itself: its export table gives the address.
  case exported
  /// Located with the kernel model (KernelModelRecipes: the object directory, the loader list …).
  case kernelModel
  /// Only from a symbol file (no exported code reaches it and its content has no telling shape).
  case symbolOnly
  /// A variable of another kernel module (`fltmgr.sys`): from that module's PDB on the symbol
  /// path, else from the module's own exports and data; the family's reader locates it.
  case module(String)
}

/// The structure a head has before its entries are read.
public enum HeadShape: Sendable {
  /// A LIST_ENTRY head.
  case list
  /// A pointer to the first node of a null-terminated chain.
  case singlyLinked
  /// An array of EX_FAST_REF slots; the count may depend on the build (0: unknown).
  case fastRefArray(slots: @Sendable (_ build: Int) -> Int)
  /// A table of routine pointers (checked by the reader only).
  case table
  /// This many LIST_ENTRY heads side by side.
  case buckets(Int)
  /// A pointer that is null or points into kernel space.
  case pointerOrNull
}

/// Data that says which of several sibling heads an entry belongs to. An entry carrying a sibling
/// head's value rules the candidate out (other values are not evidence either way).
public enum HeadDiscriminator: Sendable {
  /// DEVICE_OBJECT.DeviceType of each queued device (file-system queues): FILE_DEVICE_* of wdm.h.
  case deviceType(UInt64)
  /// The entry's EventCategory (PnP notification lists).
  case eventCategory(UInt64)

  /// The values of the sibling heads.
  var siblings: Set<UInt64> {
    switch self {
    case .deviceType(let own): return Set<UInt64>([0x03, 0x08, 0x14, 0x20]).subtracting([own])
    case .eventCategory(let own): return Set<UInt64>([1, 2]).subtracting([own])
    }
  }
}
