/** The web client's page and style sheet: one static page; the script (client-script.ts) does the rest. */
export function indexHtml(scriptPath: string, stylePath: string): string {
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Instagram</title>
<link rel="stylesheet" href="${stylePath}">
<script src="${scriptPath}" defer></script>
</head>
<body>
<header class="top"><h1>Instagram</h1><span id="whoami" data-testid="whoami"></span><button id="logout" type="button" hidden>Log out</button></header>
<p id="message" class="message" role="status" data-testid="message"></p>
<section id="auth" hidden>
  <form id="signup-form" class="card">
    <h2>Sign up</h2>
    <input name="username" placeholder="username" autocomplete="username" pattern="[a-z0-9_.]{1,30}" required data-testid="signup-username">
    <input name="password" type="password" placeholder="password (8+ characters)" autocomplete="new-password" minlength="8" required data-testid="signup-password">
    <button type="submit" data-testid="signup-submit">Sign up</button>
  </form>
  <form id="login-form" class="card">
    <h2>Log in</h2>
    <input name="username" placeholder="username" autocomplete="username" required data-testid="login-username">
    <input name="password" type="password" placeholder="password" autocomplete="current-password" required data-testid="login-password">
    <button type="submit" data-testid="login-submit">Log in</button>
  </form>
</section>
<main id="main" hidden>
  <form id="upload-form" class="card">
    <input id="photo" type="file" accept="image/jpeg,image/png,image/webp" required data-testid="photo">
    <input id="caption" placeholder="caption" maxlength="2200" data-testid="caption-input">
    <button type="submit" data-testid="upload-submit">Upload</button>
  </form>
  <form id="follow-form" class="card">
    <input id="follow-username" placeholder="username to follow" required data-testid="follow-username">
    <button type="submit" data-testid="follow-submit">Follow</button>
    <button id="refresh" type="button" data-testid="refresh">Refresh</button>
  </form>
  <div class="columns">
    <section id="feed" class="feed" data-testid="feed"></section>
    <aside><h2>Activity</h2><ul id="activity" class="activity"></ul></aside>
  </div>
</main>
</body>
</html>
`;
}

export const STYLE_SHEET = `*{box-sizing:border-box}
body{margin:0 auto;max-width:960px;padding:0 12px 48px;font:15px/1.4 system-ui,sans-serif;color:#262626;background:#fafafa}
.top{display:flex;align-items:center;gap:12px;border-bottom:1px solid #dbdbdb}
.top h1{font:italic 600 26px Georgia,serif;margin:12px auto 12px 0}
.card{background:#fff;border:1px solid #dbdbdb;border-radius:4px;padding:12px;margin:12px 0;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.card h2{width:100%;margin:0;font-size:16px}
input{padding:6px 8px;border:1px solid #dbdbdb;border-radius:3px;font:inherit}
button{padding:6px 12px;border:0;border-radius:3px;background:#0095f6;color:#fff;font:inherit;cursor:pointer}
button[aria-pressed=true]{background:#ed4956}
.columns{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:16px}
.media{background:#fff;border:1px solid #dbdbdb;border-radius:4px;margin-bottom:16px;padding:0 0 8px}
.media header{padding:8px 12px}
.media img{display:block;width:100%;max-height:600px;object-fit:contain;background:#efefef;min-height:60px}
.media p,.media ul,.media form{margin:8px 12px}
.comments{list-style:none;padding:0}
.comment-form{display:flex;gap:8px}.comment-form input{flex:1}
.activity{padding-left:18px}
.message{min-height:1.4em;color:#0a7d32}.message.error{color:#ed4956}
.empty{color:#8e8e8e}
`;
