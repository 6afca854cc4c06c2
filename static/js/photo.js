// Likes and comments on the photo page, without a reload.
import { api, toast } from "./api.js";

export function likeButton(form) {
  const photoId = form.closest("[data-photo-id]").dataset.photoId;
  const button = form.querySelector("button");
  const count = form.querySelector("[data-like-count]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const liked = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    try {
      const result = await api(`/api/v1/photos/${photoId}/like/`, { method: liked ? "DELETE" : "PUT" });
      button.setAttribute("aria-pressed", String(result.liked));
      count.textContent = result.like_count;
    } catch (error) {
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  });
}

export function commentForm(form) {
  const photoId = form.closest("[data-photo-id]").dataset.photoId;
  const list = document.querySelector("[data-comments]");
  const text = form.querySelector("textarea");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const comment = await api(`/api/v1/photos/${photoId}/comments/`, {
        method: "POST", body: { text: text.value },
      });
      document.querySelector("[data-no-comments]")?.remove();
      const item = document.createElement("li");
      const author = document.createElement("a");
      author.href = `/u/${encodeURIComponent(comment.author)}/`;
      author.textContent = `@${comment.author}`;
      item.append(author, ` ${comment.text}`);
      list.append(item);
      text.value = "";
    } catch (error) {
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  });
}

export function followForm(form) {
  const button = form.querySelector("button");
  const followers = document.querySelector("[data-follower-count]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const following = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    try {
      const profile = await api(`/api/v1/users/${encodeURIComponent(form.dataset.username)}/follow/`, {
        method: following ? "DELETE" : "PUT",
      });
      button.setAttribute("aria-pressed", String(profile.followed));
      button.textContent = profile.followed ? "Following" : "Follow";
      if (followers) followers.textContent = profile.follower_count;
    } catch (error) {
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  });
}
