/// The one form a browser needs to get in: it cannot send a Bearer header when it navigates, so
/// the admin key is typed once and kept in an HttpOnly cookie.
enum LoginPage {
  static func render(error: String? = nil, notice: String? = nil) -> String {
    let message = error.map { "<p class=\"error\" id=\"login-error\" role=\"alert\">\(html($0))</p>" } ?? ""
    // The key field is always empty: a refused key is never sent back in the page.
    return DashboardLayout.page(
      title: "Log in", flash: notice, signedIn: false,
      body: """
        \(message)
        <form method="post" action="/dashboard/login" id="login-form">
        <p><label>Admin key <input type="password" name="key" id="key" autocomplete="current-password" \
        required autofocus size="50"></label></p>
        <p><button type="submit" id="login">Log in</button></p>
        </form>
        <p class="empty">Create an admin key with <code>whago apikey create --admin</code>.</p>
        """)
  }
}
