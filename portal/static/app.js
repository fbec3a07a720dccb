// The applicants' portal: the manual's screens over the public GraphQL API.
// No framework and nothing from a CDN. Text from the service (messages, names,
// notices) is always put in with textContent, never as HTML. The session lives
// in an HttpOnly cookie (cookie mode, `X-RAS-Session: cookie`): this script
// never sees a token.
"use strict";

const TEXT = {
  ja: {
    system: "在留申請オンラインシステム",
    applicant: "（窓口申請）在留資格認定証明書電子交付希望者",
    top: "トップページ",
    notices: "お知らせ",
    noNotices: "現在お知らせはありません。",
    login: "ログイン",
    register: "新規利用者登録",
    authId: "認証ID",
    password: "パスワード",
    forgot: "パスワードを忘れた方はこちら",
    code: "ワンタイムコード（認証アプリの6桁の数字、又はリカバリーコード）",
    codeStep: "2段階認証",
    verify: "認証",
    menu: "メニュー",
    logout: "ログアウト",
    loggedOut: "ログアウトしました。",
    userInfo: "利用者情報",
    name: "氏名",
    email: "メールアドレス",
    emailConfirm: "メールアドレス（確認）",
    phone: "連絡先（電話番号）",
    dateOfBirth: "生年月日（YYYY-MM-DD）",
    nationality: "国籍（3文字の国コード、例: VNM）",
    language: "使用言語",
    terms: "利用規約",
    termsText: "在留申請オンラインシステムの利用に当たっては、入力した情報が正確であること、認証ID及びパスワードを第三者に知らせないことに同意してください。",
    agree: "利用規約に同意する",
    send: "送信",
    registered: "登録用のメールを送信しました。メールに記載されたリンクからパスワードを登録してください。送信先:",
    setup: "パスワード登録",
    passwordConfirm: "パスワード（確認）",
    setupDone: "パスワードを登録しました。認証IDは次のとおりです。ログインページからログインしてください。",
    toLogin: "ログインページへ",
    forgotTitle: "パスワード再設定の申請",
    forgotDone: "入力された認証IDとメールアドレスが登録内容と一致する場合、パスワード再設定用のメールを送信しました。",
    reset: "パスワード再設定",
    newPassword: "新しいパスワード",
    newPasswordConfirm: "新しいパスワード（確認）",
    resetDone: "パスワードを再設定しました。新しいパスワードでログインしてください。",
    change: "パスワード変更",
    currentPassword: "現在のパスワード",
    changeDone: "パスワードを変更しました。",
    changeAgain: "パスワードを変更しました。新しいパスワードでログインしてください。",
    expired: "パスワードの有効期限が切れています。パスワードを変更してください。",
    revert: "メールアドレス変更の取消し",
    revertExplain: "身に覚えのないメールアドレスの変更を取り消し、元のメールアドレスに戻します。すべてのセッションが終了し、パスワード再設定用のメールが元のアドレスに送信されます。",
    revertButton: "変更を取り消す",
    revertDone: "メールアドレスを元に戻しました。パスワード再設定用のメールを送信しました。送信先:",
    noToken: "リンクが正しくありません。メールに記載されたリンクをもう一度開いてください。",
    failed: "通信に失敗しました。しばらくしてから再度お試しください。",
    unavailable: "（利用できません）",
    lastLogin: "前回ログイン日時",
    back: "メニューへ戻る",
    userInfoChange: "利用者情報変更",
    address: "住居地",
    municipality: "市区町村",
    municipalitySearch: "市区町村の検索（漢字・かな・ローマ字）",
    search: "検索",
    choose: "選択",
    chosen: "選択中:",
    postalCode: "郵便番号（7桁）",
    lookUp: "住所を検索",
    street: "町名・番地・建物名",
    newPhone: "新しい連絡先（電話番号）",
    newEmail: "新しいメールアドレス",
    newEmailConfirm: "新しいメールアドレス（確認）",
    update: "変更する",
    updated: "利用者情報を更新しました。",
    mailSent: "メールアドレス変更の通知を新旧のメールアドレスに送信しました。",
    reauth: "本人確認のため、パスワードを再度入力してください。",
    noResults: "該当する市区町村はありません。",
    twoStep: "2段階認証の設定",
    twoStepOn: "2段階認証は有効です。",
    twoStepOff: "2段階認証は無効です。認証アプリ（Google Authenticator など）で次のQRコードを読み取るか、シークレットを入力し、表示された6桁のコードを入力してください。",
    begin: "設定を始める",
    secret: "シークレット",
    confirmCode: "確認",
    recoveryCodes: "リカバリーコード（一度だけ表示されます。安全な場所に控えてください）",
    activity: "セキュリティ履歴",
    when: "日時",
    what: "内容",
    from: "接続元",
    more: "さらに表示",
  },
  en: {
    system: "Online Residence Application System",
    applicant: "(Counter application) applicants for an electronic Certificate of Eligibility",
    top: "Top page",
    notices: "Notices",
    noNotices: "There are no notices at present.",
    login: "Log in",
    register: "New user registration",
    authId: "Auth ID",
    password: "Password",
    forgot: "Forgot your password?",
    code: "One-time code (the 6 digits of your authenticator app, or a recovery code)",
    codeStep: "Two-step login",
    verify: "Verify",
    menu: "Menu",
    logout: "Log out",
    loggedOut: "You have logged out.",
    userInfo: "User information",
    name: "Name",
    email: "Email address",
    emailConfirm: "Email address (confirmation)",
    phone: "Phone number",
    dateOfBirth: "Date of birth (YYYY-MM-DD)",
    nationality: "Nationality (3-letter country code, e.g. VNM)",
    language: "Language",
    terms: "Terms of use",
    termsText: "To use the Online Residence Application System, agree that what you enter is accurate and that you will not tell anyone your Auth ID or password.",
    agree: "I agree to the terms of use",
    send: "Send",
    registered: "We have sent a registration mail. Set your password from the link in it. Sent to:",
    setup: "Set your password",
    passwordConfirm: "Password (confirmation)",
    setupDone: "Your password is set. Your Auth ID is below. Log in from the login page.",
    toLogin: "To the login page",
    forgotTitle: "Request a password reset",
    forgotDone: "If the Auth ID and email address match an account, we have sent a mail to reset the password.",
    reset: "Reset your password",
    newPassword: "New password",
    newPasswordConfirm: "New password (confirmation)",
    resetDone: "Your password has been reset. Log in with the new password.",
    change: "Change password",
    currentPassword: "Current password",
    changeDone: "Your password has been changed.",
    changeAgain: "Your password has been changed. Log in with the new password.",
    expired: "Your password has expired. Please change it.",
    revert: "Undo an email address change",
    revertExplain: "Undo a change of your email address that you did not make: the old address comes back, every session ends, and a password reset mail goes to the old address.",
    revertButton: "Undo the change",
    revertDone: "Your email address is back. A password reset mail has been sent to:",
    noToken: "This link is not valid. Open the link in the mail again.",
    failed: "The request failed. Please try again later.",
    unavailable: "(not available)",
    lastLogin: "Previous login",
    back: "Back to the menu",
    userInfoChange: "Change user information",
    address: "Address",
    municipality: "Municipality",
    municipalitySearch: "Search a municipality (kanji, kana or romaji)",
    search: "Search",
    choose: "Choose",
    chosen: "Chosen:",
    postalCode: "Postal code (7 digits)",
    lookUp: "Look up the address",
    street: "Town, block number and building",
    newPhone: "New phone number",
    newEmail: "New email address",
    newEmailConfirm: "New email address (confirmation)",
    update: "Change",
    updated: "Your user information has been updated.",
    mailSent: "A notice of the email change has been sent to the new and the old address.",
    reauth: "To confirm it is you, enter your password again.",
    noResults: "No municipality matches.",
    twoStep: "Two-step login",
    twoStepOn: "Two-step login is on.",
    twoStepOff: "Two-step login is off. Scan the QR code below with an authenticator app (Google Authenticator, for example) or type in the secret, then enter the 6-digit code it shows.",
    begin: "Set it up",
    secret: "Secret",
    confirmCode: "Confirm",
    recoveryCodes: "Recovery codes (shown only this once: keep them somewhere safe)",
    activity: "Security activity",
    when: "When",
    what: "What",
    from: "From",
    more: "Show more",
  },
};

// Errors that mean the session is gone: back to the login page with the message.
// (timeout, no session, 099E duplicate login, and the account's status errors)
const SESSION_CODES = new Set([
  "RASX001E", "RASX002E", "WZBAM099E", "WZBAM150E", "WZBAM151E", "WZBAM153E", "WZBAM155E", "WZBAM156E",
]);
const ERROR = "__typename ... on Error { code message remedy }";
// For results whose union holds field errors (GraphQL refuses the fragment on
// a union that cannot hold them).
const FIELD = `${ERROR} ... on FieldError { field }`;
const ERROR_FIELDS = `${FIELD} ... on RequiredFieldError { fields }`;

let lang = localStorage.getItem("ras-lang") === "en" ? "en" : "ja";
let flash = null; // a problem or message carried to the next screen

function t(key) {
  return TEXT[lang][key];
}

// --- building the page ------------------------------------------------------

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick" || name === "onsubmit") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

// The manual's 「！」 beside a field at fault (hidden until then; the input's
// aria-invalid says it to screen readers).
function MARK() {
  return h("span", { class: "mark", hidden: true, "aria-hidden": "true" }, "！");
}

function field(name, label, options = {}) {
  const id = `field-${name}`;
  const input = h("input", {
    id,
    name,
    type: options.type || "text",
    autocomplete: options.autocomplete || "off",
    required: options.required !== false,
    inputmode: options.inputmode,
  });
  if (options.value) input.value = options.value;
  return h("div", { class: "field", "data-field": name },
    MARK(), h("label", { for: id }, label),
    input);
}

function show(title, ...content) {
  const screen = document.getElementById("screen");
  document.title = `${title} | ${t("system")}`;
  screen.replaceChildren(h("h1", {}, title), ...content);
  screen.focus();
}

function link(path, label, secondary = false) {
  return h("a", {
    href: path,
    class: secondary ? "button secondary" : "button",
    onclick: (event) => { event.preventDefault(); go(path); },
  }, label);
}

// --- problems: red at the top, 「！」 on the fields ---------------------------

const INPUTS = "input:not([type=hidden]), select";

function clearProblems() {
  const box = document.getElementById("problems");
  box.hidden = true;
  box.replaceChildren();
  for (const item of document.querySelectorAll(".field.invalid")) {
    item.classList.remove("invalid");
    item.querySelector(".mark").hidden = true;
    item.querySelector(INPUTS).removeAttribute("aria-invalid");
  }
}

function showProblems(problems) {
  clearProblems();
  const box = document.getElementById("problems");
  for (const problem of problems) {
    box.append(h("p", {}, "！ ", problem.message, problem.code ? ` (${problem.code})` : ""));
    if (problem.remedy) box.append(h("p", {}, problem.remedy));
    const names = new Set([problem.field, ...(problem.fields || [])]);
    // "Auth ID or password": the service does not say which, so both.
    if (problem.__typename === "InvalidCredentialsError") { names.add("authId"); names.add("password"); }
    for (const name of names) {
      const item = document.querySelector(`.field[data-field="${CSS.escape(name || "")}"]`);
      if (!item) continue;
      item.classList.add("invalid");
      item.querySelector(".mark").hidden = false;
      const input = item.querySelector(INPUTS);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "problems");
    }
  }
  box.hidden = problems.length === 0;
  if (!box.hidden) box.scrollIntoView({ block: "nearest" });
}

// --- the API ----------------------------------------------------------------

async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch(`/graphql?lang=${lang}`, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-RAS-Session": "cookie",
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new Error(t("failed"));
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.data) {
    const first = (body.errors || [])[0] || {};
    const extensions = first.extensions || {};
    throw Object.assign(new Error(first.message || t("failed")), {
      code: extensions.code, remedy: extensions.remedy,
    });
  }
  return body.data;
}

// The answer is an error: a session error goes back to the login page with
// its message, anything else is shown on this screen. True when handled.
function failed(answer) {
  if (!answer || !answer.code) return false;
  if (answer.code === "WZBAM158E" && location.pathname !== "/login") {
    // The password expired during a session: logging in again gives the
    // change ticket (the login screen then opens the password change).
    flash = { ...answer, message: t("expired") };
    go("/login");
    return true;
  }
  if (SESSION_CODES.has(answer.code) && location.pathname !== "/login") {
    flash = answer;
    go("/login");
    return true;
  }
  showProblems([answer]);
  return true;
}

async function submit(form, run) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  clearProblems();
  try {
    await run(Object.fromEntries(new FormData(form)));
  } catch (error) {
    showProblems([{ message: error.message, code: error.code, remedy: error.remedy }]);
  } finally {
    button.disabled = false;
  }
}

function form(fields, label, run) {
  const element = h("form", { novalidate: true }, ...fields,
    h("div", {}, h("button", { type: "submit" }, label)));
  element.addEventListener("submit", (event) => { event.preventDefault(); submit(element, run); });
  return element;
}

// A token from a mailed link, taken out of the address bar (and history) and
// kept in this page's memory only: a reload asks for the link again.
const linkTokens = new Map();
function linkToken() {
  const token = new URLSearchParams(location.search).get("token");
  if (token) {
    linkTokens.set(location.pathname, token);
    history.replaceState(null, "", location.pathname);
  }
  return linkTokens.get(location.pathname) || null;
}

// --- screens ----------------------------------------------------------------

async function topPage() {
  const list = h("div", { "aria-live": "polite" });
  show(t("system"),
    h("section", { "aria-labelledby": "notices-title" },
      h("h2", { id: "notices-title" }, t("notices")), list),
    h("section", {}, h("h2", {}, t("login")), link("/login", `${t("login")} ${t("applicant")}`)),
    h("section", {}, h("h2", {}, t("register")), link("/register", `${t("register")} ${t("applicant")}`, true)));
  const data = await gql("{ notices { id title body } }");
  list.replaceChildren(...(data.notices.length
    ? data.notices.map((n) => h("article", { class: "notice" }, h("h3", {}, n.title), h("p", {}, n.body)))
    : [h("p", {}, t("noNotices"))]));
}

function loginPage() {
  show(t("login"),
    form([
      field("authId", t("authId"), { autocomplete: "username" }),
      field("password", t("password"), { type: "password", autocomplete: "current-password" }),
    ], t("login"), async (values) => {
      const data = await gql(`mutation($a: String!, $p: String!) { login(input: {authId: $a, password: $p}) {
        ${ERROR_FIELDS} ... on TotpRequired { challengeToken } } }`, { a: values.authId, p: values.password });
      const answer = data.login;
      if (answer.__typename === "LoginSuccess") return go("/menu");
      if (answer.__typename === "TotpRequired") return codeStep(answer.challengeToken);
      if (answer.__typename === "PasswordExpiredError") { flash = { message: t("expired") }; return go("/password/change"); }
      failed(answer) || null;
    }),
    h("p", {}, link("/password/forgot", t("forgot"), true)),
    h("p", {}, link("/", t("top"), true)));
}

function codeStep(challengeToken) {
  show(t("codeStep"),
    form([field("code", t("code"), { autocomplete: "one-time-code", inputmode: "numeric" })], t("verify"), async (values) => {
      const code = values.code.trim();
      const recovery = code.includes("-");
      const data = await gql(`mutation($c: String!, $code: String, $r: String) {
        verifyTotp(input: {challengeToken: $c, code: $code, recoveryCode: $r}) { ${ERROR_FIELDS} } }`,
      { c: challengeToken, code: recovery ? null : code, r: recovery ? code : null });
      const answer = data.verifyTotp;
      if (answer.__typename === "LoginSuccess") return go("/menu");
      if (answer.__typename === "PasswordExpiredError") { flash = { message: t("expired") }; return go("/password/change"); }
      if (answer.code === "RASX012E") { flash = answer; return go("/login"); }
      failed(answer);
    }));
}

async function menuPage() {
  const data = await gql(`{ menu { ${ERROR} ... on Menu { items { key label available } } }
    me { ${ERROR} ... on User { authId name email phone previousLoginAt } } }`);
  if (failed(data.menu) || failed(data.me)) return;
  const me = data.me;
  const items = data.menu.items.map((item) => h("li", {},
    item.available && item.key === "UPDATE_USER_INFO"
      ? link("/user", item.label)
      : h("span", { class: "unavailable", "aria-disabled": "true" }, item.label, " ", item.available ? "" : t("unavailable"))));
  items.push(
    h("li", {}, link("/password/change", t("change"), true)),
    h("li", {}, link("/two-step", t("twoStep"), true)),
    h("li", {}, link("/activity", t("activity"), true)));
  show(t("menu"),
    h("ul", { class: "menu" }, ...items),
    h("h2", {}, t("userInfo")),
    h("dl", { class: "info" },
      h("dt", {}, t("authId")), h("dd", { class: "auth-id" }, me.authId),
      h("dt", {}, t("name")), h("dd", {}, me.name),
      h("dt", {}, t("email")), h("dd", {}, me.email),
      h("dt", {}, t("phone")), h("dd", {}, me.phone || "—"),
      h("dt", {}, t("lastLogin")), h("dd", {}, me.previousLoginAt ? new Date(me.previousLoginAt).toLocaleString(lang) : "—")),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: guarded(logout) }, t("logout"))));
}

// A click handler whose failure (network, a request error) is shown, not lost.
function guarded(run) {
  return async (event) => {
    try {
      await run(event);
    } catch (error) {
      showProblems([{ message: error.message, code: error.code, remedy: error.remedy }]);
    }
  };
}

async function logout() {
  await gql("mutation { logout { __typename } }");
  flash = { message: t("loggedOut"), done: true };
  go("/login");
}

function registerPage() {
  const language = h("div", { class: "field", "data-field": "language" },
    MARK(), h("label", { for: "field-language" }, t("language")),
    h("select", { id: "field-language", name: "language" },
      h("option", { value: "JA", selected: lang === "ja" }, "日本語"),
      h("option", { value: "EN", selected: lang === "en" }, "English")));
  const agreed = h("div", { class: "field", "data-field": "agreedToTerms" },
    MARK(), h("input", { id: "field-agreedToTerms", name: "agreedToTerms", type: "checkbox", value: "yes" }),
    h("label", { for: "field-agreedToTerms" }, t("agree")));
  show(t("register"),
    h("section", { "aria-labelledby": "terms-title" },
      h("h2", { id: "terms-title" }, t("terms")), h("div", { class: "terms", tabindex: "0" }, h("p", {}, t("termsText")))),
    form([
      field("name", t("name"), { autocomplete: "name" }),
      field("dateOfBirth", t("dateOfBirth"), { autocomplete: "bday" }),
      field("nationality", t("nationality")),
      field("email", t("email"), { type: "email", autocomplete: "email" }),
      field("emailConfirm", t("emailConfirm"), { type: "email" }),
      field("phone", t("phone"), { type: "tel", autocomplete: "tel" }),
      language, agreed,
    ], t("send"), async (values) => {
      const data = await gql(`mutation($i: RegisterUserInput!) { registerUser(input: $i) {
        ${ERROR_FIELDS} ... on RegisterUserSuccess { email } } }`, { i: {
        name: values.name, dateOfBirth: values.dateOfBirth, nationality: values.nationality,
        email: values.email, emailConfirm: values.emailConfirm, phone: values.phone,
        language: values.language, agreedToTerms: values.agreedToTerms === "yes",
      } });
      const answer = data.registerUser;
      if (answer.__typename !== "RegisterUserSuccess") return failed(answer);
      show(t("register"), h("p", { class: "done", role: "status" }, t("registered"), " ", answer.email),
        link("/", t("top"), true));
    }));
}

function passwordPair(first, second) {
  return [
    field(first, t(first === "password" ? "password" : "newPassword"), { type: "password", autocomplete: "new-password" }),
    field(second, t(second === "passwordConfirm" ? "passwordConfirm" : "newPasswordConfirm"), { type: "password", autocomplete: "new-password" }),
  ];
}

function setupPage() {
  const token = linkToken();
  if (!token) return show(t("setup"), h("p", { class: "problems" }, t("noToken")));
  show(t("setup"), form(passwordPair("password", "passwordConfirm"), t("send"), async (values) => {
    const data = await gql(`mutation($i: RegisterPasswordInput!) { registerPassword(input: $i) {
      ${ERROR_FIELDS} ... on RegisterPasswordSuccess { authId } } }`,
    { i: { token, password: values.password, passwordConfirm: values.passwordConfirm } });
    const answer = data.registerPassword;
    if (answer.__typename !== "RegisterPasswordSuccess") return failed(answer);
    linkTokens.delete(location.pathname);
    show(t("setup"), h("div", { class: "done", role: "status" }, h("p", {}, t("setupDone")),
      h("p", {}, `${t("authId")}: `, h("strong", { id: "new-auth-id" }, answer.authId))), link("/login", t("toLogin")));
  }));
}

function forgotPage() {
  show(t("forgotTitle"), form([
    field("authId", t("authId"), { autocomplete: "username" }),
    field("email", t("email"), { type: "email", autocomplete: "email" }),
  ], t("send"), async (values) => {
    const data = await gql(`mutation($a: String!, $e: String!) { requestPasswordReset(input: {authId: $a, email: $e}) {
      ${ERROR_FIELDS} } }`, { a: values.authId, e: values.email });
    const answer = data.requestPasswordReset;
    if (answer.__typename !== "RequestPasswordResetSuccess") return failed(answer);
    show(t("forgotTitle"), h("p", { class: "done", role: "status" }, t("forgotDone")), link("/", t("top"), true));
  }), h("p", {}, link("/login", t("toLogin"), true)));
}

function resetPage() {
  const token = linkToken();
  if (!token) return show(t("reset"), h("p", { class: "problems" }, t("noToken")));
  show(t("reset"), form(passwordPair("newPassword", "newPasswordConfirm"), t("send"), async (values) => {
    const data = await gql(`mutation($i: ResetPasswordInput!) { resetPassword(input: $i) { ${ERROR_FIELDS} } }`,
      { i: { token, newPassword: values.newPassword, newPasswordConfirm: values.newPasswordConfirm } });
    const answer = data.resetPassword;
    if (answer.__typename !== "ResetPasswordSuccess") return failed(answer);
    linkTokens.delete(location.pathname);
    show(t("reset"), h("p", { class: "done", role: "status" }, t("resetDone")), link("/login", t("toLogin")));
  }));
}

function changePage() {
  show(t("change"), form([
    field("currentPassword", t("currentPassword"), { type: "password", autocomplete: "current-password" }),
    ...passwordPair("newPassword", "newPasswordConfirm"),
  ], t("send"), async (values) => {
    const data = await gql(`mutation($i: ChangePasswordInput!) { changePassword(input: $i) {
      ${ERROR_FIELDS} ... on ChangePasswordSuccess { sessionEnded } } }`, { i: values });
    const answer = data.changePassword;
    if (answer.__typename !== "ChangePasswordSuccess") return failed(answer);
    if (answer.sessionEnded) { flash = { message: t("changeAgain"), done: true }; return go("/login"); }
    show(t("change"), h("p", { class: "done", role: "status" }, t("changeDone")), link("/menu", t("back")));
  }), h("p", {}, link("/menu", t("back"), true)));
}

function revertPage() {
  const token = linkToken();
  if (!token) return show(t("revert"), h("p", { class: "problems" }, t("noToken")));
  show(t("revert"), h("p", {}, t("revertExplain")), form([], t("revertButton"), async () => {
    const data = await gql(`mutation($t: String!) { revertEmailChange(input: {token: $t}) {
      ${ERROR_FIELDS} ... on RevertEmailChangeSuccess { email } } }`, { t: token });
    const answer = data.revertEmailChange;
    if (answer.__typename !== "RevertEmailChangeSuccess") return failed(answer);
    linkTokens.delete(location.pathname);
    show(t("revert"), h("p", { class: "done", role: "status" }, t("revertDone"), " ", answer.email), link("/", t("top"), true));
  }));
}


// 2.4.2–2.4.4: the user's information, and changing address, phone or email.
async function userPage() {
  const data = await gql(`{ me { ${ERROR} ... on User { authId name email phone
    address { municipalityCode prefectureName municipalityName street } } } }`);
  if (failed(data.me)) return;
  const me = data.me;
  const address = me.address || {};
  const chosen = h("span", { id: "chosen-municipality" },
    [address.prefectureName, address.municipalityName].filter(Boolean).join(" ") || "—");
  const code = h("input", { type: "hidden", name: "municipalityCode", value: address.municipalityCode || "" });
  const results = h("ul", { class: "menu", "aria-live": "polite", id: "municipality-results" });
  const street = field("newAddress.street", t("street"), { required: false, value: address.street || "" });

  function choose(municipality, town) {
    code.value = municipality.code;
    chosen.textContent = `${municipality.prefecture.name} ${municipality.name}`;
    if (town) street.querySelector("input").value = town;
    results.replaceChildren();
  }
  function offer(municipalities, towns = []) {
    results.replaceChildren(...(municipalities.length ? municipalities.map((m, i) => h("li", {},
      h("button", { type: "button", class: "secondary", onclick: () => choose(m, towns[i]) },
        `${t("choose")}: ${m.prefecture.name} ${m.name}${towns[i] ? ` ${towns[i]}` : ""} (${lang === "ja" ? m.kana : m.romaji})`)))
      : [h("li", {}, t("noResults"))]));
  }
  const searchText = h("input", { id: "municipality-search", type: "search", autocomplete: "off" });
  const searchButton = h("button", { type: "button", class: "secondary", onclick: guarded(async () => {
    clearProblems();
    const found = await gql(`query($q: String) { municipalities(query: $q, first: 20) { ${FIELD}
      ... on MunicipalityConnection { edges { node { code name kana romaji prefecture { name } } } } } }`, { q: searchText.value });
    if (failed(found.municipalities)) return;
    offer(found.municipalities.edges.map((e) => e.node));
  }) }, t("search"));
  const postal = h("input", { id: "postal-code", inputmode: "numeric", autocomplete: "postal-code" });
  const postalButton = h("button", { type: "button", class: "secondary", onclick: guarded(async () => {
    clearProblems();
    const found = await gql(`query($c: String!) { postalCode(code: $c) { ${ERROR_FIELDS}
      ... on PostalCode { places { town municipality { code name kana romaji prefecture { name } } } } } }`, { c: postal.value });
    if (failed(found.postalCode)) return;
    offer(found.postalCode.places.map((p) => p.municipality), found.postalCode.places.map((p) => p.town || ""));
  }) }, t("lookUp"));

  let input = null;
  const change = form([
    h("fieldset", { class: "field", "data-field": "newAddress.municipalityCode" },
      h("legend", {}, MARK(), t("address")),
      h("p", {}, `${t("chosen")} `, chosen), code,
      h("label", { for: "municipality-search" }, t("municipalitySearch")), searchText, searchButton,
      h("label", { for: "postal-code" }, t("postalCode")), postal, postalButton, results),
    street,
    field("newPhone", t("newPhone"), { type: "tel", autocomplete: "tel", required: false, value: me.phone || "" }),
    field("newEmail", t("newEmail"), { type: "email", autocomplete: "email", required: false }),
    field("newEmailConfirm", t("newEmailConfirm"), { type: "email", required: false }),
  ], t("update"), async (values) => {
    input = {};
    const streetValue = values["newAddress.street"];
    if (values.municipalityCode !== (address.municipalityCode || "") || streetValue !== (address.street || "")) {
      input.newAddress = { municipalityCode: values.municipalityCode || null, street: streetValue || null };
    }
    if (values.newPhone !== (me.phone || "")) input.newPhone = values.newPhone;
    if (values.newEmail || values.newEmailConfirm) {
      input.newEmail = values.newEmail;
      input.newEmailConfirm = values.newEmailConfirm;
    }
    await sendUpdate(input);
  });

  async function sendUpdate(changes) {
    const answered = await gql(`mutation($i: UpdateUserInfoInput!) { updateUserInfo(input: $i) { ${FIELD}
      ... on AddressIncompleteError { fieldErrors { __typename code message remedy field } }
      ... on UpdateUserInfoSuccess { mailSent } } }`, { i: changes });
    const answer = answered.updateUserInfo;
    if (answer.__typename === "UpdateUserInfoSuccess") {
      return show(t("userInfoChange"), h("div", { class: "done", role: "status" },
        h("p", {}, t("updated")), answer.mailSent ? h("p", {}, t("mailSent")) : null), link("/menu", t("back")));
    }
    if (answer.code === "RASX006E") return reauthenticate(() => sendUpdate(changes));
    if (answer.__typename === "AddressIncompleteError") return showProblems([answer, ...answer.fieldErrors]);
    failed(answer);
  }

  show(t("userInfoChange"),
    h("dl", { class: "info" },
      h("dt", {}, t("authId")), h("dd", { class: "auth-id" }, me.authId),
      h("dt", {}, t("name")), h("dd", {}, me.name),
      h("dt", {}, t("email")), h("dd", {}, me.email)),
    change, h("p", {}, link("/menu", t("back"), true)));
}

// The password (and the code, with two-step login) again, then `then`.
function reauthenticate(then) {
  const box = h("section", { "aria-labelledby": "reauth-title" }, h("h2", { id: "reauth-title" }, t("reauth")),
    form([
      field("password", t("password"), { type: "password", autocomplete: "current-password" }),
      field("code", t("code"), { required: false, autocomplete: "one-time-code" }),
    ], t("send"), async (values) => {
      const data = await gql(`mutation($p: String!, $c: String) { reauthenticate(input: {password: $p, code: $c}) {
        ${ERROR_FIELDS} } }`, { p: values.password, c: values.code || null });
      const answer = data.reauthenticate;
      if (answer.__typename !== "ReauthenticateSuccess") return failed(answer);
      box.remove();
      await then();
    }));
  document.getElementById("screen").append(box);
  box.querySelector("input").focus();
}

// Two-step login: enrol an authenticator app (QR code), see the recovery codes.
async function twoStepPage() {
  const data = await gql(`{ me { ${ERROR} ... on User { twoStepEnabled } } }`);
  if (failed(data.me)) return;
  if (data.me.twoStepEnabled) return show(t("twoStep"), h("p", { role: "status" }, t("twoStepOn")), link("/menu", t("back")));
  show(t("twoStep"), h("p", {}, t("twoStepOff")), form([
    field("currentPassword", t("currentPassword"), { type: "password", autocomplete: "current-password" }),
  ], t("begin"), async (values) => {
    const begun = await gql(`mutation($p: String!) { beginTotpEnrollment(input: {currentPassword: $p}) {
      ${ERROR_FIELDS} ... on TotpEnrollment { secret qrSvg } } }`, { p: values.currentPassword });
    const enrollment = begun.beginTotpEnrollment;
    if (enrollment.__typename !== "TotpEnrollment") return failed(enrollment);
    show(t("twoStep"),
      h("img", { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrollment.qrSvg)}`, alt: `QR: ${t("secret")} ${enrollment.secret}`, width: "200", height: "200" }),
      h("p", {}, `${t("secret")}: `, h("code", { id: "totp-secret" }, enrollment.secret)),
      form([field("code", t("code"), { autocomplete: "one-time-code", inputmode: "numeric" })], t("confirmCode"), async (entered) => {
        const confirmed = await gql(`mutation($c: String!) { confirmTotpEnrollment(input: {code: $c}) {
          ${ERROR_FIELDS} ... on TotpEnabled { recoveryCodes } } }`, { c: entered.code.trim() });
        const answer = confirmed.confirmTotpEnrollment;
        if (answer.__typename !== "TotpEnabled") return failed(answer);
        show(t("twoStep"), h("p", { class: "done", role: "status" }, t("twoStepOn")),
          h("h2", {}, t("recoveryCodes")), h("ul", { id: "recovery-codes" }, ...answer.recoveryCodes.map((c) => h("li", {}, h("code", {}, c)))),
          link("/menu", t("back")));
      }));
  }), h("p", {}, link("/menu", t("back"), true)));
}

// What happened on the account, newest first (mySecurityActivity).
async function activityPage() {
  const rows = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("more"));
  let after = null;
  async function load() {
    const data = await gql(`query($a: String) { mySecurityActivity(first: 20, after: $a) { ${ERROR}
      ... on SecurityActivity { edges { node { at label outcome clientAddress } } pageInfo { hasNextPage endCursor } } } }`, { a: after });
    const activity = data.mySecurityActivity;
    if (failed(activity)) return;
    for (const { node } of activity.edges) {
      rows.append(h("tr", {}, h("td", {}, new Date(node.at).toLocaleString(lang)), h("td", {}, node.label),
        h("td", {}, node.clientAddress || "—")));
    }
    after = activity.pageInfo.endCursor;
    more.hidden = !activity.pageInfo.hasNextPage;
  }
  more.addEventListener("click", guarded(load));
  show(t("activity"), h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("when")), h("th", { scope: "col" }, t("what")), h("th", { scope: "col" }, t("from")))),
    rows), more, h("p", {}, link("/menu", t("back"), true)));
  await load();
}

const SCREENS = {
  "/": topPage,
  "/login": loginPage,
  "/menu": menuPage,
  "/register": registerPage,
  "/password/setup": setupPage,
  "/password/forgot": forgotPage,
  "/password/reset": resetPage,
  "/password/change": changePage,
  "/email/revert": revertPage,
  "/user": userPage,
  "/two-step": twoStepPage,
  "/activity": activityPage,
};

// --- navigation and language ------------------------------------------------

function go(path) {
  if (location.pathname !== path) history.pushState(null, "", path);
  render();
}

async function render() {
  clearProblems();
  document.documentElement.lang = lang;
  document.getElementById("system-name").textContent = t("system");
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  const carried = flash;
  flash = null;
  delete document.documentElement.dataset.ready;
  try {
    await (SCREENS[location.pathname] || topPage)();
  } catch (error) {
    showProblems([{ message: error.message, code: error.code, remedy: error.remedy }]);
  }
  // When the screen stood complete with its data (bench/portal_load.py).
  document.documentElement.dataset.ready = String(Math.round(performance.now()));
  if (carried) {
    if (carried.done) {
      document.getElementById("screen").prepend(h("p", { class: "done", role: "status" }, carried.message));
    } else {
      showProblems([carried]);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => {
      lang = button.dataset.lang;
      localStorage.setItem("ras-lang", lang);
      render();
    });
  }
  window.addEventListener("popstate", render);
  render();
});
