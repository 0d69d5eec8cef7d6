// The HTML page's inline style sheet, script and content security policy. The policy forbids every
// network fetch (default-src 'none'), so the page works offline and cannot leak data when opened.
// The script holds no data from the image: it sorts and filters rows already in the (escaped) DOM.
// It reads `#filter=TEXT&flagged=1&sort=COLUMN&desc=1` from the URL fragment, so a link can open a
// filtered, sorted view.

extension HTMLReport {
  static let contentSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'none'"

  static let styleSheet = """
    body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}
    h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #ccc}
    .facts{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:0}
    .facts dt{font-weight:600}.facts dd{margin:0;font-family:monospace;word-break:break-all}
    .cols{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}
    table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #ddd;padding:.15em .5em;text-align:left;
    vertical-align:top}th{background:#f0f0f0}table.rows td{font-family:monospace;font-size:12px}
    table.rows th{cursor:pointer;user-select:none}th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
    tr.flagged td,li.flagged{background:#fde2e2}tr.flagged td:first-child{border-left:4px solid #c00}
    .flag{display:inline-block;white-space:nowrap;background:#c00;color:#fff;border-radius:3px;padding:0 .35em;font-size:11px;
    font-family:monospace;margin:1px}.bad{color:#b00;font-weight:600}.good{color:#070}
    .controls{margin:.4em 0;display:flex;gap:1.5em;align-items:center}#filter{width:24em}
    details.module{margin:.3em 0}details.module.flagged>summary{color:#900}summary{cursor:pointer}
    ul{margin:.2em 0}.totals{font-size:1.05em}
    """

  static let script = """
    (function(){
    "use strict";
    var filterBox=document.getElementById("filter"),flaggedBox=document.getElementById("flagged-only"),
    shown=document.getElementById("shown"),sortCol="",sortDesc=false;
    function readHash(){
      var h=location.hash.replace(/^#/,"");if(!h)return;
      h.split("&").forEach(function(p){
        var i=p.indexOf("="),k=i<0?p:p.slice(0,i),v=i<0?"":p.slice(i+1);
        try{v=decodeURIComponent(v.replace(/\\+/g," "));}catch(e){}
        if(k==="filter")filterBox.value=v;
        if(k==="flagged")flaggedBox.checked=(v==="1"||v==="true");
        if(k==="sort")sortCol=v;
        if(k==="desc")sortDesc=(v==="1"||v==="true");
      });
    }
    function apply(){
      var text=filterBox.value.trim().toLowerCase(),only=flaggedBox.checked;
      var rows=document.querySelectorAll("tr.row"),mainShown=0,mainTotal=0;
      for(var i=0;i<rows.length;i++){
        var r=rows[i],ok=(!only||r.classList.contains("flagged"))&&
          (text===""||r.textContent.toLowerCase().indexOf(text)>=0);
        r.hidden=!ok;
        if(r.closest("#all-rows")){mainTotal++;if(ok)mainShown++;}
      }
      var groups=document.querySelectorAll("details.module");
      for(var j=0;j<groups.length;j++){groups[j].hidden=!groups[j].querySelector("tr.row:not([hidden])");}
      shown.textContent=mainShown+" of "+mainTotal+" rows";
      document.body.setAttribute("data-shown",String(mainShown));
    }
    function sortBy(th,forced){
      var table=th.closest("table"),body=table.tBodies[0],col=+th.getAttribute("data-col");
      var dir=forced||(th.classList.contains("asc")?-1:1);
      table.querySelectorAll("th").forEach(function(h){h.classList.remove("asc","desc");});
      th.classList.add(dir>0?"asc":"desc");
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=(a.cells[col].getAttribute("data-sort")||"").toLowerCase(),
        y=(b.cells[col].getAttribute("data-sort")||"").toLowerCase();
        return dir*(x<y?-1:x>y?1:0);
      });
      rows.forEach(function(r){body.appendChild(r);});
    }
    document.querySelectorAll("table.rows th").forEach(function(th){
      th.addEventListener("click",function(){sortBy(th);});
      th.addEventListener("keydown",function(e){if(e.key==="Enter")sortBy(th);});
    });
    filterBox.addEventListener("input",apply);flaggedBox.addEventListener("change",apply);
    window.addEventListener("hashchange",function(){readHash();apply();});
    function sortFromHash(){
      if(!sortCol)return;
      document.querySelectorAll("#all-rows th").forEach(function(th){
        if(th.textContent===sortCol)sortBy(th,sortDesc?-1:1);
      });
    }
    window.addEventListener("hashchange",sortFromHash);
    readHash();apply();sortFromHash();
    document.body.setAttribute("data-ready","1");
    })();
    """
}
