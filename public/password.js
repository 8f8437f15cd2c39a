// The password page: a user's own password change (POST /api/password), and the first sign-in
// with a one-time password from an administrator (`?first`). A file rather than an inline script:
// the Content-Security-Policy allows our own script files and nothing inline.
const $ = (id) => document.getElementById(id);
const en = localStorage.getItem('danvan.lang') === 'en';
const say = (vi, english) => (en ? english : vi);
if (en) {
  document.documentElement.lang = 'en';
  for (const e of document.querySelectorAll('[data-en]')) e.textContent = e.dataset.en;
}
const params = new URLSearchParams(location.search);
$('first').hidden = !params.has('first');
// Back to the bundle the user came from (the office or the phone app), never to another site.
const back = params.get('back') === 'office' ? '/office/' : '/';
$('back').href = back;

$('form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const error = (text) => { $('error').textContent = text; $('error').hidden = !text; };
  error('');
  if ($('new').value !== $('again').value) {
    return error(say('Hai lần nhập mật khẩu mới không khớp.', 'The two new passwords differ.'));
  }
  $('submit').disabled = true;
  try {
    const r = await fetch('/api/password', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ old: $('old').value, new: $('new').value }),
    });
    if (r.ok) {
      $('done').hidden = false;
      for (const id of ['old', 'new', 'again']) $(id).value = '';
      setTimeout(() => location.assign(back), 1500);
      return;
    }
    if (r.status === 401) {
      return error(say('Phiên đăng nhập đã hết; hãy đăng nhập lại rồi đổi mật khẩu.', 'You are signed out: sign in again, then change the password.'));
    }
    // The server's messages are "Vietnamese / English".
    const text = ((await r.json().catch(() => ({}))).error || '').split(' / ');
    error((en ? text[1] : text[0]) || text[0] || say('Lỗi máy chủ', 'Server error') + ` (${r.status})`);
  } catch (e) {
    error(say('Cần có kết nối mạng để đổi mật khẩu.', 'Changing the password needs a network connection.'));
  } finally {
    $('submit').disabled = false;
  }
});
