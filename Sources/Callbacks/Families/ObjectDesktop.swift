// The object-desktop family (ObRegisterCallbacks (desktop type)): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// OB_CALLBACK_ENTRY records on the desktop type's OBJECT_TYPE.CallbackList: a pre and a post row each.
  public static let objectDesktop = FamilyDescriptor(
    id: "object-desktop", title: "Object callbacks on desktop handles",
    registration: "ObRegisterCallbacks (desktop type)",
    heads: [FamilyHead("ExDesktopObjectType", .exported)],
    symbols: ["ObRegisterCallbacks"],
    structs: ["_OB_CALLBACK_ENTRY"],
    reader: ObjectCallbackFamily(id: "object-desktop", typeVariable: "ExDesktopObjectType"))
}
