// The bundled ApiNumber → routine-name tables of user32's apfnDispatch (PEB.KernelCallbackTable),
// used by `kct --map` when user32.pdb is not on the symbol path. Each entry is compiled from one
// public listing of the KERNEL_CALLBACK_TABLE layout — the member names in slot order, as that
// listing spells them (facts only) — and records where it comes from and which builds it covers.
// Names that a listing numbers to tell repeated routines apart (`__fnEMPTY1`, `__fnPOPTINLPUINT2`)
// are kept as written; `BundledCallbackTableNames.agrees` compares them with a PDB's publics.

/// One bundled table: the slot names of apfnDispatch for a range of Windows builds.
public struct BundledCallbackTableLayout: Sendable {
  /// Short id shown with the names (`win10-19041`).
  public var id: String
  /// Windows build numbers (the third part of `10.0.19041.1415`) the table applies to.
  public var builds: ClosedRange<Int>
  /// The published listing the names were taken from: repository, path, commit and date.
  public var source: String
  /// Why the listing is taken to describe `builds`.
  public var basis: String
  /// The routine name of each slot, by ApiNumber.
  public var names: [String]
}

/// The bundled tables, one per release range.
public enum BundledCallbackTableNames {
  /// Every bundled table, oldest range first; the ranges do not overlap.
  public static let layouts: [BundledCallbackTableLayout] = [win10_19041, win11_26100]

  /// Windows 10 2004 – 22H2.
  static let win10_19041 = BundledCallbackTableLayout(
    id: "win10-19041",
    builds: 19041...19045,
    source:
      "github.com/cocomelonc/meow 2022-01-24-malware-injection-15/hack.cpp (struct KERNELCALLBACKTABLE_T, 128 members; "
      + "commit 5d5a1460, file unchanged since cd01d83b of 2023-06-21; published 2022-01-24 for Windows 10 x64)",
    basis:
      "its slots 50 and 55-59 hold the __xxxClient* routines that issue 12 records for 19041's apfnDispatch; "
      + "19042-19045 are enablement packages of the 19041 code base",
    names: [
      "__fnCOPYDATA", "__fnCOPYGLOBALDATA", "__fnDWORD", "__fnNCDESTROY", "__fnDWORDOPTINLPMSG", "__fnINOUTDRAG",
      "__fnGETTEXTLENGTHS", "__fnINCNTOUTSTRING", "__fnPOUTLPINT", "__fnINLPCOMPAREITEMSTRUCT",
      "__fnINLPCREATESTRUCT", "__fnINLPDELETEITEMSTRUCT", "__fnINLPDRAWITEMSTRUCT", "__fnPOPTINLPUINT",
      "__fnPOPTINLPUINT2", "__fnINLPMDICREATESTRUCT", "__fnINOUTLPMEASUREITEMSTRUCT", "__fnINLPWINDOWPOS",
      "__fnINOUTLPPOINT5", "__fnINOUTLPSCROLLINFO", "__fnINOUTLPRECT", "__fnINOUTNCCALCSIZE", "__fnINOUTLPPOINT5_",
      "__fnINPAINTCLIPBRD", "__fnINSIZECLIPBRD", "__fnINDESTROYCLIPBRD", "__fnINSTRING", "__fnINSTRINGNULL",
      "__fnINDEVICECHANGE", "__fnPOWERBROADCAST", "__fnINLPUAHDRAWMENU", "__fnOPTOUTLPDWORDOPTOUTLPDWORD",
      "__fnOPTOUTLPDWORDOPTOUTLPDWORD_", "__fnOUTDWORDINDWORD", "__fnOUTLPRECT", "__fnOUTSTRING",
      "__fnPOPTINLPUINT3", "__fnPOUTLPINT2", "__fnSENTDDEMSG", "__fnINOUTSTYLECHANGE", "__fnHkINDWORD",
      "__fnHkINLPCBTACTIVATESTRUCT", "__fnHkINLPCBTCREATESTRUCT", "__fnHkINLPDEBUGHOOKSTRUCT",
      "__fnHkINLPMOUSEHOOKSTRUCTEX", "__fnHkINLPKBDLLHOOKSTRUCT", "__fnHkINLPMSLLHOOKSTRUCT", "__fnHkINLPMSG",
      "__fnHkINLPRECT", "__fnHkOPTINLPEVENTMSG", "__xxxClientCallDelegateThread", "__ClientCallDummyCallback",
      "__fnKEYBOARDCORRECTIONCALLOUT", "__fnOUTLPCOMBOBOXINFO", "__fnINLPCOMPAREITEMSTRUCT2",
      "__xxxClientCallDevCallbackCapture", "__xxxClientCallDitThread", "__xxxClientEnableMMCSS",
      "__xxxClientUpdateDpi", "__xxxClientExpandStringW", "__ClientCopyDDEIn1", "__ClientCopyDDEIn2",
      "__ClientCopyDDEOut1", "__ClientCopyDDEOut2", "__ClientCopyImage", "__ClientEventCallback",
      "__ClientFindMnemChar", "__ClientFreeDDEHandle", "__ClientFreeLibrary", "__ClientGetCharsetInfo",
      "__ClientGetDDEFlags", "__ClientGetDDEHookData", "__ClientGetListboxString", "__ClientGetMessageMPH",
      "__ClientLoadImage", "__ClientLoadLibrary", "__ClientLoadMenu", "__ClientLoadLocalT1Fonts",
      "__ClientPSMTextOut", "__ClientLpkDrawTextEx", "__ClientExtTextOutW", "__ClientGetTextExtentPointW",
      "__ClientCharToWchar", "__ClientAddFontResourceW", "__ClientThreadSetup", "__ClientDeliverUserApc",
      "__ClientNoMemoryPopup", "__ClientMonitorEnumProc", "__ClientCallWinEventProc", "__ClientWaitMessageExMPH",
      "__ClientWOWGetProcModule", "__ClientWOWTask16SchedNotify", "__ClientImmLoadLayout", "__ClientImmProcessKey",
      "__fnIMECONTROL", "__fnINWPARAMDBCSCHAR", "__fnGETTEXTLENGTHS2", "__fnINLPKDRAWSWITCHWND",
      "__ClientLoadStringW", "__ClientLoadOLE", "__ClientRegisterDragDrop", "__ClientRevokeDragDrop",
      "__fnINOUTMENUGETOBJECT", "__ClientPrinterThunk", "__fnOUTLPCOMBOBOXINFO2", "__fnOUTLPSCROLLBARINFO",
      "__fnINLPUAHDRAWMENU2", "__fnINLPUAHDRAWMENUITEM", "__fnINLPUAHDRAWMENU3", "__fnINOUTLPUAHMEASUREMENUITEM",
      "__fnINLPUAHDRAWMENU4", "__fnOUTLPTITLEBARINFOEX", "__fnTOUCH", "__fnGESTURE", "__fnPOPTINLPUINT4",
      "__fnPOPTINLPUINT5", "__xxxClientCallDefaultInputHandler", "__fnEMPTY", "__ClientRimDevCallback",
      "__xxxClientCallMinTouchHitTestingCallback", "__ClientCallLocalMouseHooks", "__xxxClientBroadcastThemeChange",
      "__xxxClientCallDevCallbackSimple", "__xxxClientAllocWindowClassExtraBytes",
      "__xxxClientFreeWindowClassExtraBytes", "__fnGETWINDOWDATA", "__fnINOUTSTYLECHANGE2",
      "__fnHkINLPMOUSEHOOKSTRUCTEX2",
    ])

  /// Windows 11 24H2.
  static let win11_26100 = BundledCallbackTableLayout(
    id: "win11-26100",
    builds: 26100...26100,
    source:
      "github.com/winsiderss/phnt ntuser.h (struct KERNEL_CALLBACK_TABLE, 140 members; commit 7e097448 of 2025-03-15)",
    basis:
      "phnt describes the current Windows release; at that commit the current release was Windows 11 24H2 "
      + "(10.0.26100)",
    names: [
      "__fnCOPYDATA", "__fnCOPYGLOBALDATA", "__fnEMPTY1", "__fnNCDESTROY", "__fnDWORDOPTINLPMSG", "__fnINOUTDRAG",
      "__fnGETTEXTLENGTHS1", "__fnINCNTOUTSTRING", "__fnINCNTOUTSTRINGNULL", "__fnINLPCOMPAREITEMSTRUCT",
      "__fnINLPCREATESTRUCT", "__fnINLPDELETEITEMSTRUCT", "__fnINLPDRAWITEMSTRUCT", "__fnPOPTINLPUINT1",
      "__fnPOPTINLPUINT2", "__fnINLPMDICREATESTRUCT", "__fnINOUTLPMEASUREITEMSTRUCT", "__fnINLPWINDOWPOS",
      "__fnINOUTLPPOINT51", "__fnINOUTLPSCROLLINFO", "__fnINOUTLPRECT", "__fnINOUTNCCALCSIZE", "__fnINOUTLPPOINT52",
      "__fnINPAINTCLIPBRD", "__fnINSIZECLIPBRD", "__fnINDESTROYCLIPBRD", "__fnINSTRINGNULL1", "__fnINSTRINGNULL2",
      "__fnINDEVICECHANGE", "__fnPOWERBROADCAST", "__fnINLPUAHDRAWMENU1", "__fnOPTOUTLPDWORDOPTOUTLPDWORD1",
      "__fnOPTOUTLPDWORDOPTOUTLPDWORD2", "__fnOUTDWORDINDWORD", "__fnOUTLPRECT", "__fnOUTSTRING",
      "__fnPOPTINLPUINT3", "__fnPOUTLPINT", "__fnSENTDDEMSG", "__fnINOUTSTYLECHANGE1", "__fnHkINDWORD",
      "__fnHkINLPCBTACTIVATESTRUCT", "__fnHkINLPCBTCREATESTRUCT", "__fnHkINLPDEBUGHOOKSTRUCT",
      "__fnHkINLPMOUSEHOOKSTRUCTEX1", "__fnHkINLPKBDLLHOOKSTRUCT", "__fnHkINLPMSLLHOOKSTRUCT", "__fnHkINLPMSG",
      "__fnHkINLPRECT", "__fnHkOPTINLPEVENTMSG", "__xxxClientCallDelegateThread", "__ClientCallDummyCallback1",
      "__ClientCallDummyCallback2", "__fnSHELLWINDOWMANAGEMENTCALLOUT", "__fnSHELLWINDOWMANAGEMENTNOTIFY",
      "__ClientCallDummyCallback3", "__xxxClientCallDitThread", "__xxxClientEnableMMCSS", "__xxxClientUpdateDpi",
      "__xxxClientExpandStringW", "__ClientCopyDDEIn1", "__ClientCopyDDEIn2", "__ClientCopyDDEOut1",
      "__ClientCopyDDEOut2", "__ClientCopyImage", "__ClientEventCallback", "__ClientFindMnemChar",
      "__ClientFreeDDEHandle", "__ClientFreeLibrary", "__ClientGetCharsetInfo", "__ClientGetDDEFlags",
      "__ClientGetDDEHookData", "__ClientGetListboxString", "__ClientGetMessageMPH", "__ClientLoadImage",
      "__ClientLoadLibrary", "__ClientLoadMenu", "__ClientLoadLocalT1Fonts", "__ClientPSMTextOut",
      "__ClientLpkDrawTextEx", "__ClientExtTextOutW", "__ClientGetTextExtentPointW", "__ClientCharToWchar",
      "__ClientAddFontResourceW", "__ClientThreadSetup", "__ClientDeliverUserApc", "__ClientNoMemoryPopup",
      "__ClientMonitorEnumProc", "__ClientCallWinEventProc", "__ClientWaitMessageExMPH",
      "__ClientCallDummyCallback4", "__ClientCallDummyCallback5", "__ClientImmLoadLayout", "__ClientImmProcessKey",
      "__fnIMECONTROL", "__fnINWPARAMDBCSCHAR", "__fnGETTEXTLENGTHS2", "__ClientCallDummyCallback6",
      "__ClientLoadStringW", "__ClientLoadOLE", "__ClientRegisterDragDrop", "__ClientRevokeDragDrop",
      "__fnINOUTMENUGETOBJECT", "__ClientPrinterThunk", "__fnOUTLPCOMBOBOXINFO", "__fnOUTLPSCROLLBARINFO",
      "__fnINLPUAHDRAWMENU2", "__fnINLPUAHDRAWMENUITEM", "__fnINLPUAHDRAWMENU3", "__fnINOUTLPUAHMEASUREMENUITEM",
      "__fnINLPUAHDRAWMENU4", "__fnOUTLPTITLEBARINFOEX", "__fnTOUCH", "__fnGESTURE", "__fnPOPTINLPUINT4",
      "__fnPOPTINLPUINT5", "__xxxClientCallDefaultInputHandler", "__fnEMPTY2", "__ClientRimDevCallback",
      "__xxxClientCallMinTouchHitTestingCallback", "__ClientCallLocalMouseHooks", "__xxxClientBroadcastThemeChange",
      "__xxxClientCallDevCallbackSimple", "__xxxClientAllocWindowClassExtraBytes",
      "__xxxClientFreeWindowClassExtraBytes", "__fnGETWINDOWDATA", "__fnINOUTSTYLECHANGE2",
      "__fnHkINLPMOUSEHOOKSTRUCTEX2", "__xxxClientCallDefWindowProc", "__fnSHELLSYNCDISPLAYCHANGED",
      "__fnHkINLPCHARHOOKSTRUCT", "__fnINTERCEPTEDWINDOWACTION", "__xxxTooltipCallback", "__xxxClientInitPSBInfo",
      "__xxxClientDoScrollMenu", "__xxxClientEndScroll", "__xxxClientDrawSize", "__xxxClientDrawScrollBar",
      "__xxxClientHitTestScrollBar", "__xxxClientTrackInit",
    ])
}
