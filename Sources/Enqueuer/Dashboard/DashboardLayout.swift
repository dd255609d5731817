/// The frame every dashboard page shares: navigation, flash message, styles, and the refresh
/// script. Everything is inline so the page needs nothing but this server.
enum DashboardLayout {
  static func page(title: String, flash: String? = nil, signedIn: Bool = true, body: String) -> String {
    let nav =
      signedIn
      ? """
      <nav><a href="/dashboard">Overview</a> <a href="/dashboard/events">Events</a> <a href="/dashboard/billing">Billing</a> \
      <a href="/dashboard/busy">Busy</a> <a href="/dashboard/scheduled">Scheduled</a> <a href="/dashboard/retries">Retries</a> \
      <a href="/dashboard/dead">Dead letters</a> <a href="/dashboard/schedules">Schedules</a> <a href="/dashboard/limits">Limits</a> <a href="/dashboard/charts">Charts</a> <a href="/dashboard/containers">Containers</a> \
      <a href="/dashboard/tenants">Tenants</a> <a href="/dashboard/audit">Audit</a> \
      \(JobPage.searchForm) \
      <form method="post" action="/dashboard/logout" class="inline">\(DashboardForm.csrfField)\
      <button type="submit" id="logout">Log out</button></form></nav>
      """ : ""
    let message = flash.map { "<p id=\"flash\" class=\"flash\" role=\"status\">\(html($0))</p>" } ?? ""
    return """
      <!doctype html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(html(title)) · whago</title>
      <style>\(style)</style>
      </head>
      <body>
      <header><h1>whago · \(html(title))</h1>\(nav)</header>
      <main>
      \(message)
      \(body)
      </main>
      <script>\(refreshScript)</script>
      </body>
      </html>
      """
  }

  static let style = """
    body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
    header{display:flex;align-items:baseline;gap:2em;padding:.6em 1.2em;background:#1d2329;color:#fff}
    header h1{font-size:1.1em;margin:0}header a{color:#cfe3ff;margin-right:1em}
    main{padding:1em 1.2em}section{margin-bottom:2em}h2{font-size:1.05em}
    table{border-collapse:collapse;background:#fff}th,td{padding:.3em .6em;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
    td.n{text-align:right;font-variant-numeric:tabular-nums}
    .flash{background:#e6f4ea;border:1px solid #9ad0a8;padding:.5em .8em}
    .error{background:#fdecea;border:1px solid #f1a9a0;padding:.5em .8em}
    .empty{color:#69737d;font-style:italic}
    pre{background:#fff;border:1px solid #e3e6ea;padding:.6em;max-width:70em;overflow:auto;white-space:pre-wrap}
    svg.chart{background:#fff;border:1px solid #e3e6ea}svg .processed{fill:#2e7d32}svg .failed{fill:#c62828}
    svg .axis{stroke:#b0b7bf}svg .p99{fill:#90caf9}svg .p50{fill:#1565c0}svg text{font-size:10px;fill:#69737d}
    form.inline{display:inline}button{cursor:pointer}progress{width:12em}
    dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em;margin:.6em 0}dt{color:#69737d}dd{margin:0}
    .filters input,.filters select{margin-right:.6em}code{font-size:.95em}
    @media (max-width:760px){header{flex-wrap:wrap;gap:.4em}header a{display:inline-block;margin:.25em .8em .25em 0}
    main{padding:.6em}table{display:block;overflow-x:auto;max-width:100%}svg.chart{max-width:100%;height:auto}}
    """

  /// Every 5 s, re-fetches the page and swaps in the parts marked `data-live` whose HTML changed,
  /// so numbers stay current without a reload that would lose scroll position or a form being
  /// typed. A lost session (revoked key) reloads into the login page.
  static let refreshScript = """
    (function () {
      var live = document.querySelectorAll('[data-live][id]');
      if (!live.length) return;
      setInterval(function () {
        if (document.hidden) return;
        fetch(location.href, {credentials: 'same-origin', cache: 'no-store'}).then(function (r) {
          if (r.redirected || r.status === 401) { location.reload(); return null; }
          return r.ok ? r.text() : null;
        }).then(function (text) {
          if (!text) return;
          var fresh = new DOMParser().parseFromString(text, 'text/html');
          live.forEach(function (old) {
            var next = fresh.getElementById(old.id);
            if (next && next.innerHTML !== old.innerHTML) old.innerHTML = next.innerHTML;
          });
        }).catch(function () {});
      }, 5000);
    })();
    """
}
