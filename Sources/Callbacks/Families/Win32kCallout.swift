// The win32k-callout family (PsEstablishWin32Callouts): the one routine (win32k's
// W32CalloutDispatch on Windows 10 and 11) the kernel calls for every Win32 process, thread, job,
// desktop and window-station event. An EX_CALLBACK (8 bytes); its block's routine belongs in
// win32k.sys or win32kbase.sys — anything else intercepts all of Win32's kernel calls.

extension FamilyDescriptor {
  /// PsWin32CallBack: one EX_FAST_REF slot.
  public static let win32kCallout = FamilyDescriptor(
    id: "win32k-callout", title: "Win32k callout dispatch (every Win32 process, thread and desktop event)",
    registration: "PsEstablishWin32Callouts",
    heads: [
      FamilyHead(
        "PsWin32CallBack", .code(exports: ["PsEstablishWin32Callouts"], shape: .fastRefArray(slots: { _ in 1 })))
    ],
    symbols: ["PsEstablishWin32Callouts"],
    structs: ["_EX_CALLBACK_ROUTINE_BLOCK"],
    reader: ExpectedOwnersFamily(
      inner: NotifyRoutineArrayFamily(id: "win32k-callout", symbol: "PsWin32CallBack", slots: { _ in 1 }),
      owners: ["win32k.sys", "win32kbase.sys", "win32kfull.sys"]))
}
