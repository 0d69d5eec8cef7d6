// The object-process family (ObRegisterCallbacks (process type)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// OB_CALLBACK_ENTRY records on the process type's OBJECT_TYPE.CallbackList: a pre and a post row each.
  public static let objectProcess = FamilyDescriptor(
    id: "object-process", title: "Object callbacks on process handles",
    registration: "ObRegisterCallbacks (process type)",
    heads: [FamilyHead("PsProcessType", .exported)],
    symbols: ["ObRegisterCallbacks"],
    structs: ["_OB_CALLBACK_ENTRY"],
    reader: ObjectCallbackFamily(id: "object-process", typeVariable: "PsProcessType"))
}
