// Progressive enhancement: each page works without JS; this wires up what it finds.
import { applyExperiments, trackConversions } from "./experiments.js";
import { infiniteScroll } from "./feed.js";
import { paint } from "./paint.js";
import { commentForm, followForm, likeButton } from "./photo.js";
import { uploader } from "./upload.js";

const ENHANCERS = [
  ["[data-paint]", paint],
  ["[data-infinite]", infiniteScroll],
  ["[data-like-form]", likeButton],
  ["[data-comment-form]", commentForm],
  ["[data-follow-form]", followForm],
  ["[data-upload]", uploader],
];

for (const [selector, enhance] of ENHANCERS) {
  for (const element of document.querySelectorAll(selector)) enhance(element);
}

// Variants of pages that every signed-out visitor shares, and conversions to count.
applyExperiments(document);
trackConversions(document);
