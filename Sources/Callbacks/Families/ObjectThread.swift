// The object-thread family (ObRegisterCallbacks (thread type)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// OB_CALLBACK_ENTRY records on the thread type's OBJECT_TYPE.CallbackList: a pre and a post row each.
  public static let objectThread = FamilyDescriptor(
    id: "object-thread", title: "Object callbacks on thread handles", registration: "ObRegisterCallbacks (thread type)",
    heads: [FamilyHead("PsThreadType", .exported)],
    symbols: ["ObRegisterCallbacks"],
    structs: ["_OB_CALLBACK_ENTRY"],
    reader: ObjectCallbackFamily(id: "object-thread", typeVariable: "PsThreadType"))
}
