/**
 * The web client's script, as the browser runs it (plain ES2020, no build step, no framework): sign up, log
 * in, upload, follow, the feed with likes and comments, the activity feed. It talks only to the API on its
 * own origin, authenticated by the session cookie, and sends the session's CSRF token on every write. Text
 * from the API is only ever set as textContent, never parsed as HTML.
 */
export const CLIENT_SCRIPT = String.raw`"use strict";
(() => {
    const state = { user: null, csrf: null };
    const $ = (id) => document.getElementById(id);

    function el(tag, attrs, ...children) {
        const node = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs || {})) {
            if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
            else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : String(v));
        }
        for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
        return node;
    }

    async function api(method, path, body) {
        const headers = {};
        if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
        let payload;
        if (body instanceof Blob) { payload = body; headers["Content-Type"] = body.type; }
        else if (body !== undefined) { payload = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
        const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
        const text = await res.text();
        const json = text ? JSON.parse(text) : undefined;
        if (!res.ok) {
            const err = new Error((json && json.message) || ("HTTP " + res.status));
            err.status = res.status;
            throw err;
        }
        return json;
    }

    function say(text, isError) {
        const m = $("message");
        m.textContent = text || "";
        m.className = isError ? "message error" : "message";
    }

    async function guarded(fn) {
        try { say(""); await fn(); }
        catch (e) {
            if (e.status === 401 && state.user) { state.user = null; state.csrf = null; show(); }
            say(e.message, true);
        }
    }

    function show() {
        const signedIn = !!state.user;
        $("auth").hidden = signedIn;
        $("main").hidden = !signedIn;
        $("whoami").textContent = signedIn ? "@" + state.user.username : "";
        $("logout").hidden = !signedIn;
        if (signedIn) return Promise.all([loadFeed(), loadActivity()]);
    }

    async function logIn(username, password) {
        const r = await api("POST", "/api/v1/sessions", { username, password, cookie: true });
        state.user = r.user;
        state.csrf = r.csrfToken;
        await show();
    }

    function fields(form) {
        return Object.fromEntries(new FormData(form).entries());
    }

    const plural = (n, one, many) => (n === 1 ? one : many);

    function commentItem(c) {
        return el("li", { "data-testid": "comment" }, el("b", {}, "@" + c.user.username), " ", c.text);
    }

    function mediaCard(m) {
        const likeButton = el("button", { type: "button", "data-testid": "like", "aria-pressed": m.viewerHasLiked ? "true" : "false" }, m.viewerHasLiked ? "Unlike" : "Like");
        const likes = el("span", { "data-testid": "likes" }, String(m.likes));
        const likesLabel = el("span", {}, plural(m.likes, " like", " likes"));
        const commentCount = el("span", { "data-testid": "comment-count" }, String(m.comments));
        const commentsLabel = el("span", {}, plural(m.comments, " comment", " comments"));
        const list = el("ul", { class: "comments" });
        const input = el("input", { name: "text", placeholder: "Add a comment", maxlength: 2200, required: true, "data-testid": "comment-text" });
        const form = el("form", { class: "comment-form" }, input, el("button", { type: "submit", "data-testid": "comment-submit" }, "Post"));
        let liked = !!m.viewerHasLiked;
        likeButton.addEventListener("click", () => guarded(async () => {
            const r = await api(liked ? "DELETE" : "PUT", "/api/v1/media/" + m.id + "/like");
            liked = r.viewerHasLiked;
            likes.textContent = String(r.likes);
            likesLabel.textContent = plural(r.likes, " like", " likes");
            likeButton.textContent = liked ? "Unlike" : "Like";
            likeButton.setAttribute("aria-pressed", String(liked));
        }));
        form.addEventListener("submit", (ev) => { ev.preventDefault(); guarded(async () => {
            const c = await api("POST", "/api/v1/media/" + m.id + "/comments", { text: input.value });
            list.prepend(commentItem(c));
            const n = Number(commentCount.textContent) + 1;
            commentCount.textContent = String(n);
            commentsLabel.textContent = plural(n, " comment", " comments");
            input.value = "";
        }); });
        api("GET", "/api/v1/media/" + m.id + "/comments?limit=5").then((r) => list.append(...r.comments.map(commentItem))).catch(() => undefined);
        return el("article", { class: "media", "data-testid": "media", "data-media-id": m.id },
            el("header", {}, el("b", { "data-testid": "owner" }, "@" + (m.username || m.userId))),
            el("img", { src: m.url, alt: m.caption || "photo", loading: "lazy" }),
            el("p", { class: "caption", "data-testid": "caption" }, m.caption),
            el("p", { class: "counts" }, likeButton, " ", likes, likesLabel, " · ", commentCount, commentsLabel),
            list, form);
    }

    async function loadFeed() {
        const r = await api("GET", "/api/v1/users/" + state.user.id + "/feed?limit=20");
        const feed = $("feed");
        feed.replaceChildren(...(r.media.length ? r.media.map(mediaCard) : [el("p", { class: "empty" }, "No photos yet: upload one, or follow someone.")]));
    }

    function activityText(a) {
        if (a.type === "follow") return "@" + a.actor.username + " started following you";
        if (a.type === "like") return "@" + a.actor.username + " liked your photo";
        return "@" + a.actor.username + " commented: " + a.text;
    }

    async function loadActivity() {
        const r = await api("GET", "/api/v1/users/" + state.user.id + "/activity?limit=20");
        $("activity").replaceChildren(...r.activity.map((a) => el("li", { "data-testid": "activity" }, activityText(a))));
    }

    $("signup-form").addEventListener("submit", (ev) => { ev.preventDefault(); guarded(async () => {
        const f = fields(ev.target);
        await api("POST", "/api/v1/users", { username: f.username, password: f.password });
        await logIn(f.username, f.password);
    }); });
    $("login-form").addEventListener("submit", (ev) => { ev.preventDefault(); guarded(() => { const f = fields(ev.target); return logIn(f.username, f.password); }); });
    $("logout").addEventListener("click", () => guarded(async () => {
        await api("DELETE", "/api/v1/sessions/current");
        state.user = null;
        state.csrf = null;
        await show();
    }));
    $("upload-form").addEventListener("submit", (ev) => { ev.preventDefault(); guarded(async () => {
        const file = $("photo").files[0];
        if (!file) throw new Error("choose a photo first");
        await api("POST", "/api/v1/users/" + state.user.id + "/media?caption=" + encodeURIComponent($("caption").value), file);
        ev.target.reset();
        say("Uploaded.");
        await loadFeed();
    }); });
    $("follow-form").addEventListener("submit", (ev) => { ev.preventDefault(); guarded(async () => {
        const name = $("follow-username").value.trim();
        const target = await api("GET", "/api/v1/users?username=" + encodeURIComponent(name));
        await api("PUT", "/api/v1/users/" + state.user.id + "/following/" + target.id);
        ev.target.reset();
        say("Following @" + target.username + ".");
        await loadFeed();
    }); });
    $("refresh").addEventListener("click", () => guarded(() => show()));

    guarded(async () => {
        try {
            const r = await api("GET", "/api/v1/sessions/current");
            state.user = r.user;
            state.csrf = r.csrfToken;
        } catch (e) {
            if (e.status !== 401) throw e;
        }
        await show();
    });
})();
`;
