// The cameras this account may see, each linking to its live view.
const list = document.getElementById("cameras");
const response = await fetch("/api/cameras");
if (response.status === 401) {
  location.assign("/login?next=/");
} else if (response.ok) {
  list.replaceChildren(...(await response.json()).map((camera) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/live/${encodeURIComponent(camera.name)}`;
    link.textContent = `${camera.name} (${camera.status.state})`;
    item.append(link);
    return item;
  }));
} else {
  list.textContent = list.dataset.login;
}
