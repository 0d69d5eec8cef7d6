// The table and queue families over hostile memory: the service table, every processor's timer
// table (with the Dpc decoding) and IDT, I/O timers, driver reinitialisation queues, object type
// procedures and other types' object callbacks, the HAL dispatch table, connected interrupt
// objects, the priority and win32k EX_CALLBACK slots and the KD power, I/O tracking and ALPC log
// lists, each head at a fixed offset of the input (tableFamilyHeads).

import Callbacks

/// Where each family head is in the input (ObTypeIndexTable: 256 slots, then HalDispatchTable).
let tableFamilyHeads: [String: UInt64] = [
  "KeNumberProcessors": 0x40, "KeServiceDescriptorTable": 0x100, "KiServiceLimit": 0x120,
  "KiProcessorBlock": 0x140, "KiWaitNever": 0x150, "KiWaitAlways": 0x158, "IopTimerQueueHead": 0x160,
  "IopDriverReinitializeQueueHead": 0x170, "IopBootDriverReinitializeQueueHead": 0x180, "ObTypeIndexTable": 0x200,
  "HalDispatchTable": 0xA00, "IopRootDeviceNode": 0x190, "PsActiveProcessHead": 0x00, "PspLegoNotifyRoutine": 0x198,
  "KiBoundsCallback": 0x1A0, "PsWin32CallBack": 0x1A8, "IopUpdatePriorityCallbackRoutine": 0x1B0,
  "KdpPowerListHead": 0x1F0, "IopPerfIoTrackingListHead": 0xB00, "AlpcpLogCallbackListHead": 0xB10,
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTableFamilies(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  let kernel = FuzzKernel.kernel(bytes, symbols: tableFamilyHeads)
  let context = CallbackContext(kernel: kernel, build: 19041, readObjects: false)
  _ = CallbackScanner.scan(
    context,
    selection: [
      "ssdt", "timer-dpc", "io-timer", "driver-reinit", "object-type-procedure", "hal-table", "idt", "object-other",
      "pnp-target-device", "instrumentation-callback", "lego-notify", "bound-callback", "priority-callback",
      "win32k-callout", "kd-power", "io-tracking", "alpc-log", "interrupt-object",
    ])
  return 0
}
