// The table and queue families over hostile memory: the service table, every processor's timer
// table (with the Dpc decoding) and IDT, I/O timers, driver reinitialisation queues, object type
// procedures and other types' object callbacks, and the HAL dispatch table, each head at a fixed
// offset of the input (TableFamiliesProfile).

import Callbacks
import Symbols
import WindowsKernel

/// The bundled layouts, with the families' kernel variables moved into the input.
struct TableFamiliesProfile: KernelProfile {
  let layouts: any KernelProfile
  var identity: PDBIdentity { layouts.identity }
  var source: Provenance { .bundled }
  var sourceDescription: String { "fuzz" }

  /// Where each head is in the input (ObTypeIndexTable: 256 slots, then HalDispatchTable).
  static let symbols: [String: UInt64] = [
    "KeNumberProcessors": 0x40, "KeServiceDescriptorTable": 0x100, "KiServiceLimit": 0x120,
    "KiProcessorBlock": 0x140, "KiWaitNever": 0x150, "KiWaitAlways": 0x158, "IopTimerQueueHead": 0x160,
    "IopDriverReinitializeQueueHead": 0x170, "IopBootDriverReinitializeQueueHead": 0x180, "ObTypeIndexTable": 0x200,
    "HalDispatchTable": 0xA00,
  ]

  func symbol(_ name: String) -> SymbolInfo? {
    Self.symbols[name].map { SymbolInfo(name: name, rva: $0, provenance: .bundled) }
  }
  func structSize(_ name: String) -> Int? { layouts.structSize(name) }
  func field(_ structName: String, _ fieldName: String) -> FieldInfo? { layouts.field(structName, fieldName) }
  func enumeration(_ name: String) -> [String: Int64]? { layouts.enumeration(name) }
  var symbolNames: [String] { Array(Self.symbols.keys) }
  var structNames: [String] { layouts.structNames }
  func fields(of structName: String) -> [String: FieldInfo]? { layouts.fields(of: structName) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTableFamilies(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let base = FuzzKernel.kernel(bytes)
  let kernel = Kernel(space: base.space, image: base.image, profile: TableFamiliesProfile(layouts: FuzzKernel.layouts))
  let context = CallbackContext(kernel: kernel, build: 19041, readObjects: false)
  _ = CallbackScanner.scan(
    context,
    selection: [
      "ssdt", "timer-dpc", "io-timer", "driver-reinit", "object-type-procedure", "hal-table", "idt", "object-other",
    ])
  return 0
}
