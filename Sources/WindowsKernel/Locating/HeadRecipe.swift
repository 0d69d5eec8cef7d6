// How one kernel variable is found without a symbol file: the exported routines whose code
// references it, which references qualify, and the shape check a candidate must pass in memory.

import Symbols

/// How strongly a candidate's shape was confirmed.
public enum ShapeStrength: Int, Sendable, Comparable {
  /// Consistent but empty (an empty list, an all-null array): nothing in it could be checked.
  case weak
  /// Live entries were found and every one checked.
  case strong
  public static func < (a: ShapeStrength, b: ShapeStrength) -> Bool { a.rawValue < b.rawValue }
}

/// A shape check's answer for one candidate address.
public enum ShapeVerdict: Sendable {
  case accepted(ShapeStrength, String)
  case rejected(String)
}

/// Which code references may name the variable.
public enum ReferenceFilter: Sendable {
  /// Any statically known memory operand.
  case any
  /// The address is taken (`lea`) or the value loaded/stored (`mov`), not only tested or compared.
  case addressOrAccess
  /// A LOCK-prefixed read-modify-write (`lock xadd`, `lock inc` …): counters.
  case lockedUpdate
  /// A plain load of the value (`mov reg, [X]`): pointer variables.
  case load
  /// A 32-bit read-modify-write or move (`lock xadd`, `lock inc`, `mov eax, [X]` …), never a
  /// compare or test: counters.
  case dwordAccess
}

/// Where a recipe's candidates come from.
public enum RecipeSource: Sendable {
  /// References in the code reachable from these exports (the first present export is enough;
  /// all present ones are walked). `condition`: only references on the path a `cmp reg, imm; je`
  /// dispatch takes for that value (one export serving several heads).
  case code(exports: [String], filter: ReferenceFilter, condition: Int64?)
  /// Derived from data already located (e.g. PsActiveProcessHead from PsInitialSystemProcess): the
  /// closure returns candidate addresses with the evidence of each.
  case derived(@Sendable (LocatorContext) -> [(address: UInt64, evidence: String)])
}

/// The recipe for one variable.
public struct HeadRecipe: Sendable {
  public let symbol: String
  public let source: RecipeSource
  /// Symbols that must be located (or have failed) before this one is validated.
  public let after: [String]
  /// Alignment of the variable (pointer size for heads and arrays, 4 for counters, 1 for bytes).
  public let alignment: UInt64
  /// Tried when `source` yields no accepted candidate (e.g. a data scan behind a code pattern).
  public let fallback: RecipeSource?
  /// The shape check.
  public let validate: @Sendable (UInt64, LocatorContext) -> ShapeVerdict

  public init(
    symbol: String, source: RecipeSource, fallback: RecipeSource? = nil, after: [String] = [], alignment: UInt64 = 8,
    validate: @escaping @Sendable (UInt64, LocatorContext) -> ShapeVerdict
  ) {
    self.symbol = symbol
    self.source = source
    self.fallback = fallback
    self.after = after
    self.alignment = alignment
    self.validate = validate
  }
}
