// The verdict rules: stable ids (used in JSON `flags`) and the one-line explanations shown in tables.

/// A suspicion rule.
public enum Rule: String, Sendable, CaseIterable {
  case outsideModules = "outside-modules"
  case unlinkedModule = "unlinked-module"
  case disabled = "disabled"
  case countMismatch = "count-mismatch"
  case callbacksUnsupported = "callbacks-unsupported"
  case listCorrupt = "list-corrupt"
  case patchedPrologue = "patched-prologue"
  case orphaned = "orphaned"
  case tableOutsideUser32 = "table-outside-user32"
  case tableDiffers = "table-differs"
  case slotOutsideModule = "slot-outside-module"
  case slotDiffers = "slot-differs"
  case privateExecutable = "slot-in-private-rwx"

  /// What the flag means, in one line.
  public var explanation: String {
    switch self {
    case .outsideModules: return "routine lies in no loaded module (shellcode or a hidden driver)"
    case .unlinkedModule: return "routine's module is not in PsLoadedModuleList (found by driver object or carving)"
    case .disabled: return "object callback registered but disabled (Enabled = 0)"
    case .countMismatch: return "the kernel's counter disagrees with the non-empty slots (a slot was emptied)"
    case .callbacksUnsupported: return "the object type's SupportsObjectCallbacks bit is clear: callbacks are skipped"
    case .listCorrupt: return "the list is self-linked or broken; entries were recovered around the break"
    case .patchedPrologue: return "routine returns at once (patched prologue)"
    case .orphaned: return "callback block found in pool but not linked from its head"
    case .tableOutsideUser32: return "PEB.KernelCallbackTable points outside user32"
    case .tableDiffers: return "PEB.KernelCallbackTable differs from user32!apfnDispatch"
    case .slotOutsideModule: return "table slot points outside user32/win32u"
    case .slotDiffers: return "table slot differs from the expected routine"
    case .privateExecutable: return "table slot points into private writable+executable memory"
    }
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
