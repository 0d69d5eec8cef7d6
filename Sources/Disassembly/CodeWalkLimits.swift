// The bounds of a code walk: hostile or unusual code (a jmp to itself, a call chain that loops,
// endless padding) ends the walk with a reason, never a hang.

/// How far a walk may go.
public struct CodeWalkLimits: Sendable, Hashable {
  /// Calls entered below the entry point.
  public var callDepth: Int
  /// Calls and far jumps (thunks, cold blocks) on one chain.
  public var hops: Int
  /// Instructions decoded in one function.
  public var instructionsPerFunction: Int
  /// Instructions decoded in the whole walk.
  public var totalInstructions: Int
  /// Distinct functions entered.
  public var functions: Int
  /// Bytes of code read (distinct pages × page size).
  public var bytesRead: Int
  /// A jump further than this from its instruction, or the first instruction of a function, is a hop
  /// into another function (a thunk or a cold block), not a branch within the function.
  public var farJump: UInt64

  public init(
    callDepth: Int = 4, hops: Int = 8, instructionsPerFunction: Int = 4096, totalInstructions: Int = 30_000,
    functions: Int = 400, bytesRead: Int = 4 << 20, farJump: UInt64 = 0x1000
  ) {
    self.callDepth = callDepth
    self.hops = hops
    self.instructionsPerFunction = instructionsPerFunction
    self.totalInstructions = totalInstructions
    self.functions = functions
    self.bytesRead = bytesRead
    self.farJump = farJump
  }

  /// The defaults: enough for a registration export's chain of three internal routines.
  public static let standard = CodeWalkLimits()
}
