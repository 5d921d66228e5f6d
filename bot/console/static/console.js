// The console works without this file; it only adds what plain pages cannot:
// new cases appear in the inbox without a reload (polled every 5 seconds).
"use strict";
(function () {
  var POLL_MS = 5000;
  var table = document.getElementById("case-list");
  if (!table) { return; }
  var notice = document.getElementById("new-cases");
  var latest = parseInt(table.dataset.latest || "0", 10);
  var arrived = 0;

  function cell(label, text) {
    var td = document.createElement("td");
    td.dataset.label = label;
    td.textContent = text;
    return td;
  }

  function row(item) {
    var tr = document.createElement("tr");
    tr.className = "fresh status-" + item.status;
    var number = document.createElement("td");
    number.dataset.label = "编号";
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.number;
    number.appendChild(link);
    tr.appendChild(number);
    var status = document.createElement("td");
    status.dataset.label = "状态";
    var badge = document.createElement("span");
    badge.className = "badge " + item.status;
    badge.textContent = item.status_label;
    status.appendChild(badge);
    tr.appendChild(status);
    tr.appendChild(cell("类型", item.category));
    tr.appendChild(cell("区", item.district));
    tr.appendChild(cell("电话", item.phone));
    tr.appendChild(cell("提交", item.created));
    tr.appendChild(cell("接单人", item.claimed_by));
    return tr;
  }

  function showCounts(counts) {
    var total = 0;
    Object.keys(counts).forEach(function (status) {
      total += counts[status];
      var badge = document.querySelector('[data-count="' + status + '"]');
      if (badge) { badge.textContent = counts[status]; }
    });
    var all = document.querySelector('[data-count="all"]');
    if (all) { all.textContent = total; }
  }

  function poll() {
    var url = table.dataset.feed + "&after=" + latest;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (feed) {
        if (!feed) { return; }
        var body = table.tBodies[0];
        var empty = body.querySelector("tr.empty");
        feed.cases.slice().reverse().forEach(function (item) {
          if (empty) { empty.remove(); empty = null; }
          body.insertBefore(row(item), body.firstChild);
          arrived += 1;
        });
        latest = Math.max(latest, feed.latest);
        showCounts(feed.counts);
        if (arrived > 0) {
          notice.hidden = false;
          notice.textContent = "新到 " + arrived + " 件转介（已加在列表最上面）";
        }
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  window.setInterval(poll, POLL_MS);
}());
