// The cameras this account may see, each linking to its live view and, for those who set
// cameras up, to its detection set-up.
const list = document.getElementById("cameras");
const response = await fetch("/api/cameras");
if (response.status === 401) {
  location.assign("/login?next=/");
} else if (response.ok) {
  const me = await (await fetch("/api/auth/me")).json();
  const canSetUp = (me.perms || []).includes("camera.admin");
  list.replaceChildren(...(await response.json()).map((camera) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/live/${encodeURIComponent(camera.name)}`;
    link.textContent = `${camera.name} (${camera.status.state})`;
    item.append(link);
    if (canSetUp) {
      const setup = document.createElement("a");
      setup.href = `/cameras/${encodeURIComponent(camera.name)}/detection`;
      setup.textContent = list.dataset.detection;
      item.append(" · ", setup);
    }
    return item;
  }));
} else {
  list.textContent = list.dataset.login;
}
