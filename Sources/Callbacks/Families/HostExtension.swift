// The ex-host family (ExRegisterExtension): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// EX_HOST records on ExpHostList, each with its table of functions.
  public static let hostExtension = FamilyDescriptor(
    id: "ex-host", title: "Host extension function tables", registration: "ExRegisterExtension",
    heads: [FamilyHead("ExpHostList", .code(exports: ["ExRegisterExtension", "ExUnregisterExtension"], shape: .list))],
    symbols: ["ExRegisterExtension"],
    reader: ExHostFamily())
}
