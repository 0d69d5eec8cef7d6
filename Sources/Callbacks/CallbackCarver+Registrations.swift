// Carved blocks that need more than a routine: CALLBACK_REGISTRATIONs (`CBRe`, 0x30 bytes on x64:
// Link, CallbackObject, CallbackFunction, CallbackContext, Busy, UnregisterWaiting; ntos.h) name
// their callback object through the back-pointer, so an orphaned registration (its object's
// RegisteredCallbacks list broken or emptied) is reported under that object. And which notify
// array an orphaned EX_CALLBACK_ROUTINE_BLOCK (`Cbrb`) came from, where its Context says so.

import BinaryReading
import WindowsKernel

extension CallbackCarver {
  /// A decoded block: the routine, details, and the head it hangs from when known.
  struct Carved {
    var routine: UInt64
    var details: [(String, DetailValue)]
    var head: UInt64 = 0
    var headSymbol: String?
    /// Members that could not be read (their details are null).
    var warnings: [String] = []

    init(_ routine: UInt64, _ details: [(String, DetailValue)], head: UInt64 = 0, headSymbol: String? = nil) {
      self.routine = routine
      self.details = details
      self.head = head
      self.headSymbol = headSymbol
    }
  }

  /// Bytes of the structure a block of `tag` must hold to be decoded (the last member read).
  static func minimumSize(_ c: CallbackContext, tag: String) throws(WindowsKernelError) -> Int {
    let l = c.layouts
    let p = Int(c.pointerSize)
    switch tag {
    case "Cbrb":
      return Int(max(try l.callbackRoutineBlock["Function"], try l.callbackRoutineBlock["Context"])) + p
    case "CBRe": return Int(try l.callbackRegistration["UnregisterWaiting"]) + 1
    default: return p
    }
  }

  /// A CALLBACK_REGISTRATION at physical `physical`: its routine, and its callback object named
  /// through the back-pointer (checked by the object's 'Call' signature).
  static func registration(_ c: CallbackContext, physical: UInt64) throws(WindowsKernelError) -> Carved? {
    let r = c.layouts.callbackRegistration
    let memory = c.kernel.space.memory
    // Offsets first: a member the layout lacks is an error, not a block that fails to decode.
    let (busyOffset, waitingOffset) = (try r["Busy"], try r["UnregisterWaiting"])
    guard let routine = pointer(c, physical, try r["CallbackFunction"]),
      let object = pointer(c, physical, try r["CallbackObject"]),
      let context = pointer(c, physical, try r["CallbackContext"]),
      let busy = try? memory.readUInt32(at: physical &+ busyOffset),
      let waiting = try? memory.read(at: physical &+ waitingOffset, count: 1).first
    else { return nil }
    let o = c.layouts.callbackObject
    let (signatureOffset, headOffset) = (try o["Signature"], try o["RegisteredCallbacks"])
    var path: String?
    var check = "ok"
    if let signature = try? c.kernel.readUnsigned(object &+ signatureOffset, width: 4) {
      if signature == UInt64(CallbackObjectFamily.signature) {
        path = (try? c.objects?.object(at: object))?.name.map { "\\Callback\\" + $0 }
      } else {
        check = "signature \(Hex.format(signature)) at the back-pointer is not 'Call'"
      }
    } else {
      check = "back-pointer \(Hex.format(object)) unreadable"
    }
    var details: [(String, DetailValue)] = [
      ("object", path.map(DetailValue.string) ?? .null), ("callbackObject", .address(object)),
      ("context", .address(context)), ("busy", .int(Int64(busy))), ("unregisterWaiting", .bool(waiting != 0)),
    ]
    if check != "ok" { details.append(("callbackObjectCheck", .string(check))) }
    return Carved(
      routine, details, head: check == "ok" ? object &+ headOffset : 0,
      headSymbol: path ?? (check == "ok" ? "CALLBACK_OBJECT" : nil))
  }

  /// The notify array an orphaned callback block belongs to, and why; "unknown" when its Context
  /// does not say. PspSetCreateProcessNotifyRoutine stores its flags in the block's Context (2 =
  /// Ex, 6 = Ex2); the thread and image arrays store 0 or flag values that overlap each other.
  static func notifyArray(context: UInt64) -> (String, String) {
    switch context {
    case 2: return ("process-notify", "Context 2: PsSetCreateProcessNotifyRoutineEx flags")
    case 6: return ("process-notify", "Context 6: PsSetCreateProcessNotifyRoutineEx2 flags")
    default:
      return ("unknown", "Context \(Hex.format(context)) is used by the process, thread and image arrays alike")
    }
  }
}
