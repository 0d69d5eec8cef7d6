// The verdict rules: stable ids (used in JSON `flags`), their severity and the one-line explanations
// shown in tables. Every flag any report carries is one of these (README's flag table lists them).

import Callbacks

/// A suspicion rule (its id, severity and explanation); families add their own in their descriptors.
public typealias Rule = VerdictRule

extension VerdictRule {
  public static let outsideModules = Rule(
    "outside-modules", .high, "routine lies in no loaded module (shellcode or a hidden driver)")
  public static let unlinkedModule = Rule(
    "unlinked-module", .high, "routine's module is not in PsLoadedModuleList (found by driver object or carving)")
  public static let outsideExpectedModule = Rule(
    "outside-expected-module", .high, "routine lies outside the module(s) this slot's routines belong to (a hook)")
  public static let disabled = Rule("disabled", .medium, "object callback registered but disabled (Enabled = 0)")
  public static let countMismatch = Rule(
    "count-mismatch", .high, "the kernel's counter disagrees with the non-empty slots (a slot was emptied)")
  public static let callbacksUnsupported = Rule(
    "callbacks-unsupported", .low, "the object type's SupportsObjectCallbacks bit is clear: callbacks are skipped")
  public static let listCorrupt = Rule(
    "list-corrupt", .medium, "the list is self-linked or broken; entries were recovered around the break")
  public static let patchedPrologue = Rule("patched-prologue", .high, "routine returns at once (patched prologue)")
  public static let orphaned = Rule("orphaned", .medium, "callback block found in pool but not linked from its head")
  public static let tableOutsideUser32 = Rule(
    "table-outside-user32", .high, "PEB.KernelCallbackTable points outside user32")
  public static let tableDiffers = Rule(
    "table-differs", .medium, "PEB.KernelCallbackTable differs from user32!apfnDispatch")
  public static let slotOutsideModule = Rule(
    "slot-outside-module", .high, "table slot points outside user32/win32u")
  public static let slotDiffers = Rule("slot-differs", .medium, "table slot differs from the expected routine")
  public static let privateExecutable = Rule(
    "slot-in-private-rwx", .high, "table slot points into private writable+executable memory")
  public static let slotInPrivateMemory = Rule(
    "slot-in-private-memory", .medium, "table slot points into private memory (no image maps it)")
  public static let tableInWritableExecutableMemory = Rule(
    "table-in-writable-executable-memory", .high, "PEB.KernelCallbackTable lies in private writable+executable memory")

  /// The general rules, in the order the flag tables list them.
  public static let general: [Rule] = [
    .outsideModules, .unlinkedModule, .outsideExpectedModule, .disabled, .countMismatch, .callbacksUnsupported,
    .listCorrupt, .patchedPrologue, .orphaned, .tableOutsideUser32, .tableDiffers, .slotOutsideModule,
    .slotDiffers, .privateExecutable, .slotInPrivateMemory, .tableInWritableExecutableMemory,
  ]

  /// Every rule: the general ones, then each family's own (FamilyDescriptor.rules), each id once.
  public static let allCases: [Rule] = {
    var seen = Set<String>()
    return (general + FamilyDescriptor.all.flatMap(\.rules)).filter { seen.insert($0.rawValue).inserted }
  }()

  /// The rule with flag id `rawValue`.
  public init?(rawValue: String) {
    guard let rule = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
    self = rule
  }
}

/// A finding about a whole family rather than one row (e.g. a counter that disagrees).
public struct FamilyFinding: Sendable, Hashable {
  public var family: String
  public var rule: Rule
  public var detail: String
  public init(family: String, rule: Rule, detail: String) {
    self.family = family
    self.rule = rule
    self.detail = detail
  }
}
