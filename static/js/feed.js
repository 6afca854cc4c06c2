// Infinite scroll: the server rendered page one; later pages come from the API.
import { api, toast } from "./api.js";

const FORMATS = [["avif", "image/avif"], ["webp", "image/webp"], ["jpeg", "image/jpeg"]];

function pictureFor(photo, picture) {
  picture.style.aspectRatio = `${photo.width} / ${photo.height}`;
  picture.style.backgroundColor = photo.dominant_color || "#ddd";
  const img = picture.querySelector("img");
  for (const [format, type] of FORMATS) {
    const renditions = photo.renditions.filter((r) => r.format === format);
    if (!renditions.length) continue;
    const source = document.createElement("source");
    source.type = type;
    source.srcset = renditions.map((r) => `${r.url} ${r.width}w`).join(", ");
    source.sizes = "(min-width: 64rem) 30rem, 100vw";
    picture.insertBefore(source, img);
  }
  const jpegs = photo.renditions.filter((r) => r.format === "jpeg");
  if (jpegs.length) img.src = jpegs[Math.min(1, jpegs.length - 1)].url;
  img.alt = photo.caption ? photo.caption.slice(0, 200) : `Photo by ${photo.owner}`;
  img.width = photo.width;
  img.height = photo.height;
}

function card(photo, template) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.photoId = photo.id;
  const link = node.querySelector(".card-image");
  link.href = `/p/${photo.id}/`;
  pictureFor(photo, node.querySelector("picture"));
  const owner = node.querySelector(".owner");
  owner.href = `/u/${encodeURIComponent(photo.owner)}/`;
  owner.textContent = `@${photo.owner}`;
  node.querySelector("[data-like-count]").textContent = photo.like_count;
  return node;
}

export function infiniteScroll(grid) {
  const template = document.getElementById("card-template");
  const status = document.querySelector("[data-more-status]");
  let next = grid.dataset.next;
  let loading = false;
  const sentinel = document.createElement("div");
  grid.after(sentinel);

  async function loadMore() {
    if (!next || loading) return;
    loading = true;
    if (status) status.hidden = false;
    try {
      const page = await api(next);
      for (const photo of page.results) grid.append(card(photo, template));
      next = page.next;
    } catch (error) {
      toast(error.message);
    } finally {
      loading = false;
      if (status) status.hidden = true;
    }
  }

  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadMore();
  }, { rootMargin: "600px" }).observe(sentinel);
}
