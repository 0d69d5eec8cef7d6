// KiProcessorBlock: the KPRCB of every processor, for the families that read per-processor state
// (timer tables, interrupt descriptor tables).

import BinaryReading
import WindowsKernel

/// Reads KiProcessorBlock.
enum ProcessorBlock {
  /// Processors read at most (the largest KiProcessorBlock).
  static let maximumProcessors = 2048

  /// The KPRCB of each processor: KeNumberProcessors entries of KiProcessorBlock (without the
  /// count, up to the first null), each a readable kernel address.
  static func prcbs(_ c: CallbackContext, block: UInt64) throws(WindowsKernelError) -> [UInt64] {
    var count = maximumProcessors
    var counted = false
    // Without the symbol the block is read to its first null; a count the profile names must be read.
    if let address = try? c.kernel.address(of: "KeNumberProcessors") {
      let value = try c.kernel.readUnsigned(address, width: 4)
      guard value > 0, value <= UInt64(maximumProcessors) else {
        throw .implausible(address: address, structure: "KeNumberProcessors", detail: "\(value) processors")
      }
      count = Int(value)
      counted = true
    }
    var prcbs: [UInt64] = []
    for index in 0..<count {
      let prcb: UInt64
      do { prcb = try c.kernel.readPointer(block &+ UInt64(index) &* c.pointerSize) } catch {
        if !counted, index > 0 { break }  // past the end of the array's mapped part
        throw error
      }
      if prcb == 0, index > 0 { break }
      guard c.kernel.isKernelAddress(prcb), (try? c.kernel.readPointer(prcb)) != nil else {
        throw .implausible(
          address: block &+ UInt64(index) &* c.pointerSize, structure: "KiProcessorBlock[\(index)]",
          detail: "\(Hex.format(prcb)) is not a readable KPRCB")
      }
      prcbs.append(prcb)
    }
    return prcbs
  }
}
