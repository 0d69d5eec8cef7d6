// The callback-object family (ExCreateCallback / ExRegisterCallback): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// CALLBACK_OBJECTs on ExpCallbackListHead (8.1+) or in the \\Callback object directory, each with its
  /// CALLBACK_REGISTRATION list.
  public static let callbackObject = FamilyDescriptor(
    id: "callback-object", title: "Callback-object registrations (\\Callback\\…)",
    registration: "ExCreateCallback / ExRegisterCallback",
    heads: [
      FamilyHead("ExpCallbackListHead", .recipe { _ in FamilyHeadLocators.callbackObjectList }),
      FamilyHead("ObpRootDirectoryObject", .kernelModel),
    ],
    symbols: ["ExCallbackObjectType", "ExCreateCallback", "ExRegisterCallback", "ExNotifyCallback"]
      + KnownCallbackObjects.byVariable.map(\.symbol),
    structs: ["_CALLBACK_OBJECT", "_CALLBACK_REGISTRATION"],
    reader: CallbackObjectFamily())
}
