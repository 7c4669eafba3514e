-- launch.lua - wrk script for the launch-throughput benchmark.
-- Each request is the vendor's single-asset launch: POST with the vendor's body and
-- Basic auth, over keep-alive. Requests walk through every (asset, scan type,
-- override) combination in turn, each thread from its own offset, so launches are not
-- all de-duplicated into one job. The same script drives odscand and nginx, so both
-- pay the same client-side cost.
--
-- Environment: BENCH_AUTH (base64 of user:password), BENCH_ASSET_FIRST,
-- BENCH_ASSETS (how many consecutive asset ids), BENCH_IDS_OUT (file to which
-- done() writes every job id acknowledged with 200, one per line; optional).

local scans = { "Inventory_Scan", "Vulnerability_Scan", "PolicyCompliance_Scan",
                "UDC_Scan", "SCA_Scan", "SWCA_scan" }
local overrides = { "false", "true" }
local body = '<?xml version="1.0" encoding="UTF-8" ?>\n<ServiceRequest></ServiceRequest>'
local first = tonumber(os.getenv("BENCH_ASSET_FIRST") or "100001")
local nassets = tonumber(os.getenv("BENCH_ASSETS") or "1")
local ncombos = nassets * #scans * #overrides
local headers = {
    ["Authorization"] = "Basic " .. (os.getenv("BENCH_AUTH") or ""),
    ["Content-Type"] = "text/xml",
}

local threads = {}
local counter = 0

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    -- spread the threads' starting points over the combination space
    counter = (tid or 0) * 7919
    ids = {}
    fresh = 0
    existing = 0
    codes = {}
end

function request()
    local k = counter % ncombos
    counter = counter + 1
    local asset = first + (k % nassets)
    local rest = math.floor(k / nassets)
    local scan = scans[(rest % #scans) + 1]
    local ovr = overrides[(math.floor(rest / #scans) % #overrides) + 1]
    local path = "/qps/rest/1.0/ods/ca/agentasset/" .. asset .. "?scan=" .. scan ..
                 "&OverrideConfigCpu=" .. ovr
    return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, resp_body)
    codes[status] = (codes[status] or 0) + 1
    if status == 200 then
        local id = hdrs["X-Odscan-Job-Id"]
        if id then
            ids[id] = true
            if hdrs["X-Odscan-Job-Existing"] == "false" then
                fresh = fresh + 1
            else
                existing = existing + 1
            end
        end
    end
end

function done(summary, latency, requests)
    local all, nfresh, nexisting, allcodes = {}, 0, 0, {}
    for _, t in ipairs(threads) do
        for id, _ in pairs(t:get("ids")) do all[id] = true end
        nfresh = nfresh + t:get("fresh")
        nexisting = nexisting + t:get("existing")
        for c, n in pairs(t:get("codes")) do allcodes[c] = (allcodes[c] or 0) + n end
    end
    local distinct = 0
    local out = os.getenv("BENCH_IDS_OUT")
    local f = out and io.open(out, "w")
    for id, _ in pairs(all) do
        distinct = distinct + 1
        if f then f:write(id, "\n") end
    end
    if f then f:close() end
    local cs = {}
    for c, n in pairs(allcodes) do table.insert(cs, c .. "=" .. n) end
    table.sort(cs)
    io.write(string.format("BENCH requests=%d rps=%.1f p50_us=%.0f p99_us=%.0f new_jobs=%d deduplicated=%d distinct_job_ids=%d codes=%s\n",
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), nfresh, nexisting, distinct,
        table.concat(cs, ",")))
end
