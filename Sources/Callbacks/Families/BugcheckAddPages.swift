// The bugcheck-add-pages family (KeRegisterBugCheckReasonCallback with KbCallbackAddPages or
// KbCallbackRemovePages): routines the kernel calls while writing a crash dump to add pages to it
// or take pages out — a way to hide memory from the dump. Windows 8.1 on keeps them on their own
// list, of the same KBUGCHECK_REASON_CALLBACK_RECORDs as the reason callbacks.

extension FamilyDescriptor {
  /// KeBugCheckAddRemovePagesCallbackListHead.
  public static let bugcheckAddPages = FamilyDescriptor(
    id: "bugcheck-add-pages", title: "Bug-check add-pages and remove-pages callbacks (what a crash dump holds)",
    registration: "KeRegisterBugCheckReasonCallback (KbCallbackAddPages, KbCallbackRemovePages)",
    // The registration routine reaches it only on the add/remove-pages path of the reason list's
    // code: symbol files name it; patterns would not tell it from the reason list.
    heads: [FamilyHead("KeBugCheckAddRemovePagesCallbackListHead", .symbolOnly)],
    structs: ["_KBUGCHECK_REASON_CALLBACK_RECORD"],
    reader: InitialisedListGuard(
      inner: BugcheckReasonFamily.reader(id: "bugcheck-add-pages", symbol: "KeBugCheckAddRemovePagesCallbackListHead"),
      heads: ["KeBugCheckAddRemovePagesCallbackListHead"]))
}
