// The ci family (CI.dll CiInitialize): its descriptor.

import BinaryReading
import Symbols
import WindowsKernel

extension FamilyDescriptor {
  /// SeCiCallbacks (8+: size-prefixed, found by content — no export references it) or g_CiCallbacks (7).
  public static let codeIntegrity = FamilyDescriptor(
    id: "ci", title: "Code-integrity callbacks CI.dll installs", registration: "CI.dll CiInitialize",
    heads: [
      FamilyHead("SeCiCallbacks", .recipe { _ in FamilyHeadLocators.codeIntegrityTable }, builds: 9200...Int.max),
      FamilyHead("g_CiCallbacks", .code(exports: ["SepInitializeCodeIntegrity"], shape: .table), builds: 0...9199),
    ],
    symbols: ["SepInitializeCodeIntegrity"],
    reader: RoutineTableFamily(
      id: "ci", symbols: ["SeCiCallbacks", "g_CiCallbacks"], sizePrefixed: true, fixedSlots: 3, names: []))
}
