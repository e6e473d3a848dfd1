/* Site-wide behaviour, loaded on every page (deferred). No inline scripts anywhere: the strict CSP
 * allows only our own files. */
(function () {
  "use strict";

  // htmx requests carry Django's CSRF token from <meta name="csrf-token"> (cookies stay HttpOnly-able).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  // A failed htmx request swaps nothing (base.html's htmx config swaps only 400/422/429 error answers),
  // so say what happened in one banner at the top of the page. The form the user was filling is left
  // as it was. Styles: .error-banner in css/linli.css.
  var BANNER_ID = "htmx-error-banner";
  var CONFLICT_TEXT_MAX = 120;

  function showError(text) {
    var banner = document.getElementById(BANNER_ID);
    if (!banner) {
      banner = document.createElement("div");
      banner.id = BANNER_ID;
      banner.className = "error-banner";
      banner.setAttribute("role", "alert");
      var message = document.createElement("span");
      message.className = "error-banner-text";
      var close = document.createElement("button");
      close.type = "button";
      close.className = "error-banner-close";
      close.setAttribute("aria-label", "关闭提示");
      close.textContent = "×";
      close.addEventListener("click", function () {
        banner.remove();
      });
      banner.appendChild(message);
      banner.appendChild(close);
      document.body.insertBefore(banner, document.body.firstChild);
    }
    // Only one banner: a repeated error replaces its text.
    banner.querySelector(".error-banner-text").textContent = text;
  }

  // A 409 whose body is a short plain-text sentence (e.g. "该工单已被他人处理") is shown as it is.
  function conflictText(xhr) {
    var type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    var body = (xhr.responseText || "").trim();
    if (type.indexOf("text/plain") === 0 && body && body.length <= CONFLICT_TEXT_MAX && body.indexOf("<") < 0) {
      return body;
    }
    return "内容已被他人更新,请刷新后重试";
  }

  function responseErrorText(xhr) {
    var status = xhr ? xhr.status : 0;
    if (status === 404) {
      return "该工单已不在您的办理范围,请刷新页面";
    }
    if (status === 403) {
      return "页面已过期或无权操作,请刷新后重试";
    }
    if (status === 409) {
      return conflictText(xhr);
    }
    if (status >= 500) {
      return "服务器出错,请稍后重试";
    }
    return "操作未成功,请刷新页面后重试";
  }

  document.addEventListener("htmx:responseError", function (event) {
    showError(responseErrorText(event.detail && event.detail.xhr));
  });

  function networkError() {
    showError("网络异常,您填写的内容已保留,请重试");
  }
  document.addEventListener("htmx:sendError", networkError);
  document.addEventListener("htmx:timeout", networkError);
})();
