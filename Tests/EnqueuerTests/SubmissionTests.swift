import Foundation
import JobQueue
import TestSupport
import Testing

extension EnqueuerSuite {
  @Suite struct SubmissionTests {
    @Test func aSubmittedJobIsQueuedForItsTenantAndReadable() async throws {
      try await EnqueuerFixture.with { f in
        let reply = try await f.submit(json: ["type": "diag.echo", "payload": ["message": "olá"]])
        #expect(reply.status == 202)
        let body = try reply.json()
        let id = try #require(body["id"] as? String)
        #expect(body["state"] as? String == "ready")
        #expect(body["queue"] as? String == "diag")
        #expect(body["duplicate"] as? Bool == false)
        #expect(reply.header("Location") == "/v1/jobs/\(id)")

        // Redis has it, in the tenant's lane.
        let info = try await TestRedis.broker().job(id: id)
        #expect(info.tenant == f.tenant)
        #expect(info.type == "diag.echo")

        let shown = try await f.get("/v1/jobs/\(id)")
        #expect(shown.status == 200)
        let job = try shown.json()
        #expect(job["state"] as? String == "ready")
        #expect((job["payload"] as? [String: Any])?["message"] as? String == "olá")
        #expect(job["max_attempts"] as? Int == 3)
        #expect(job["started_at"] is NSNull)
        #expect((job["enqueued_at"] as? String)?.hasSuffix("Z") == true)
      }
    }

    @Test func delayedAndTimedSubmissions() async throws {
      try await EnqueuerFixture.with { f in
        let delayed = try await f.submit(json: ["type": "diag.noop", "delay_ms": 60_000, "max_attempts": 7])
        #expect(delayed.status == 202)
        #expect(try delayed.json()["state"] as? String == "scheduled")
        let id = try #require(try delayed.json()["id"] as? String)
        let info = try await TestRedis.broker().job(id: id)
        #expect(info.maxAttempts == 7)
        let due = try #require(info.dueAt)
        let enqueued = try #require(info.enqueuedAt)
        #expect(due - enqueued >= 59_000 && due - enqueued <= 61_000)

        // A day ahead, written with a -03:00 offset as WHAGO's backend would.
        let target = (Int64(Date().timeIntervalSince1970) / 60 + 24 * 60) * 60
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(secondsFromGMT: -3 * 3600)
        let text = formatter.string(from: Date(timeIntervalSince1970: Double(target)))
        #expect(text.hasSuffix("-03:00"))
        let at = try await f.submit(json: ["type": "diag.noop", "run_at": text])
        #expect(at.status == 202)
        let atInfo = try await TestRedis.broker().job(id: try #require(try at.json()["id"] as? String))
        #expect(atInfo.dueAt == target * 1000)
        // 400 days from PostgreSQL's now: past the 366-day limit on any day.
        let farAway = formatter.string(from: try await TestDatabase.now().addingTimeInterval(400 * 86_400))
        let tooFar = try await f.submit(json: ["type": "diag.noop", "run_at": farAway])
        #expect(tooFar.status == 422)
        #expect(tooFar.problem.pointers == ["/run_at"])
      }
    }

    @Test func theSameIdempotencyKeyAnswersTheSameJobWithinATenantOnly() async throws {
      try await EnqueuerFixture.with { f in
        let job: [String: Any] = ["type": "diag.noop", "delay_ms": 60_000]
        let first = try await f.submit(json: job, headers: ["Idempotency-Key": "order-42"])
        let second = try await f.submit(json: job, headers: ["Idempotency-Key": "order-42"])
        #expect(first.status == 202 && second.status == 202)
        #expect(try first.json()["id"] as? String == (try second.json()["id"] as? String))
        #expect(try second.json()["duplicate"] as? Bool == true)

        // Another tenant using the same key gets a job of its own.
        let other = try await TestDatabase.tenant(plan: "enterprise")
        let third = try await f.post(
          "/v1/jobs", key: f.serviceKey, tenant: other, json: job, headers: ["Idempotency-Key": "order-42"])
        #expect(third.status == 202)
        #expect(try third.json()["id"] as? String != (try first.json()["id"] as? String))
        #expect(try third.json()["duplicate"] as? Bool == false)

        // A key the system made (here one that begins with the tenant's name) is out of reach of a
        // key sent over the API: the tenant gets a job of its own, and the system's job stays as it was.
        let queue = try #require(try first.json()["queue"] as? String)
        let system = try await TestRedis.broker().enqueue(
          JobSpec(
            type: "diag.noop", queue: queue, when: .after(.seconds(60)), idempotencyKey: "\(f.tenant):renew-1"))
        let collision = try await f.submit(json: job, headers: ["Idempotency-Key": "renew-1"])
        #expect(collision.status == 202)
        #expect(try collision.json()["duplicate"] as? Bool == false)
        #expect(try collision.json()["id"] as? String != system.id)
      }
    }

    @Test func aBatchGoesInWholeOrNotAtAll() async throws {
      try await EnqueuerFixture.with { f in
        let queue = "diag"
        let broker = try TestRedis.broker()
        let before = try await broker.stats(queues: [queue])[0].enqueued

        let jobs = (0..<1000).map { i -> [String: Any] in
          ["type": "diag.noop", "idempotency_key": "batch-\(f.tenant)-\(i)", "delay_ms": 3_600_000]
        }
        let reply = try await f.submit("/v1/jobs/batch", json: ["jobs": jobs])
        #expect(reply.status == 202)
        let accepted = try #require(try reply.json()["jobs"] as? [[String: Any]])
        #expect(accepted.count == 1000)
        #expect(Set(accepted.compactMap { $0["id"] as? String }).count == 1000)
        #expect(try await broker.stats(queues: [queue])[0].enqueued - before == 1000)

        // One bad job refuses the whole batch, and says which one.
        var mixed = Array(jobs.prefix(3)).map { job -> [String: Any] in
          var job = job
          job["idempotency_key"] = "mixed-\(f.tenant)-\(UUID().uuidString)"
          return job
        }
        mixed.append(["type": "diag.sleep", "payload": ["ms": "soon"]])
        let refused = try await f.submit("/v1/jobs/batch", json: ["jobs": mixed])
        #expect(refused.status == 422)
        #expect(refused.problem.pointers == ["/jobs/3/payload/ms"])
        #expect(try await broker.stats(queues: [queue])[0].enqueued - before == 1000)

        let tooMany = try await f.submit(
          "/v1/jobs/batch", json: ["jobs": Array(repeating: ["type": "diag.noop"], count: 1001)])
        #expect(tooMany.status == 422)
        #expect(tooMany.problem.pointers == ["/jobs"])
        let empty = try await f.submit("/v1/jobs/batch", json: ["jobs": [Any]()])
        #expect(empty.status == 422)
      }
    }

    @Test func cancelBeforeStartAndAClearConflictAfter() async throws {
      try await EnqueuerFixture.with { f in
        let scheduled = try await f.submit(json: ["type": "diag.noop", "delay_ms": 60_000])
        let id = try #require(try scheduled.json()["id"] as? String)
        let cancelled = try await f.delete("/v1/jobs/\(id)")
        #expect(cancelled.status == 200)
        #expect(try cancelled.json()["state"] as? String == "cancelled")
        #expect(try await f.get("/v1/jobs/\(id)").json()["state"] as? String == "cancelled")
        let again = try await f.delete("/v1/jobs/\(id)")
        #expect(again.status == 409)
        #expect(again.isProblem)
        #expect(again.problem.detail.contains("is cancelled"))
      }
    }

    /// The plan caps a tenant's jobs scheduled ahead (per queue) and one job's payload: past the
    /// cap a submission is a 403 that writes nothing, another tenant is not affected, and a job
    /// that came due or was cancelled frees its place.
    @Test func thePlanCapsScheduledJobsAndPayloadSize() async throws {
      let plan = TestDatabase.tenantName()
      try await TestDatabase.migrate()
      try await TestDatabase.whago([
        "plan", "set", plan, "--from", "enterprise", "scheduled_jobs=3", "job_payload_bytes=200",
      ])
      try await EnqueuerFixture.with(plan: plan) { f in
        let later: [String: Any] = ["type": "diag.noop", "delay_ms": 3_600_000]
        #expect(try await f.submit(json: later).status == 202)
        #expect(try await f.submit(json: later).status == 202)
        // Two more would make 4: the batch is refused whole, so the single one after it still fits.
        let batch = try await f.submit("/v1/jobs/batch", json: ["jobs": [later, later]])
        #expect(batch.status == 403 && batch.problem.type.hasSuffix("plan-limit"), "\(batch.text)")
        #expect(batch.problem.detail.contains("scheduled_jobs"))
        let third = try await f.submit(json: later)
        #expect(third.status == 202)
        let fourth = try await f.submit(json: later)
        #expect(fourth.status == 403)
        #expect(fourth.problem.detail.contains("3 of this tenant's jobs"), "\(fourth.text)")
        // Work due now is not scheduled ahead.
        #expect(try await f.submit(json: ["type": "diag.noop"]).status == 202)
        // A cancelled job frees its place at once.
        let id = try #require(try third.json()["id"] as? String)
        #expect(try await f.delete("/v1/jobs/\(id)").status == 200)
        #expect(try await f.submit(json: later).status == 202)
        #expect(try await f.submit(json: later).status == 403)

        // Another tenant on the same plan has a cap of its own. Of its 3, one comes due in 2 s by
        // Redis's clock, and then a 4th fits: a job due stops counting without anyone removing it.
        let other = try await TestDatabase.tenant(plan: plan)
        func otherSubmits(_ job: [String: Any]) async throws -> Int {
          try await f.post("/v1/jobs", key: f.serviceKey, tenant: other, json: job).status
        }
        #expect(try await otherSubmits(["type": "diag.noop", "delay_ms": 2000]) == 202)
        #expect(try await otherSubmits(later) == 202)
        #expect(try await otherSubmits(later) == 202)
        try await eventually("the due job to free its place", within: .seconds(60), every: .milliseconds(250)) {
          let status = try await otherSubmits(later)
          guard status == 202 || status == 403 else { throw TestSetupError("answered \(status)") }
          return status == 202
        }
        #expect(try await otherSubmits(later) == 403)

        let big = try await f.submit(
          json: ["type": "diag.sleep", "payload": ["ms": 1, "note": String(repeating: "x", count: 300)]])
        #expect(big.status == 422)
        #expect(big.problem.pointers == ["/payload"])
        #expect(big.problem.detail.contains("allows 200"), "\(big.text)")
        #expect(try await f.submit(json: ["type": "diag.sleep", "payload": ["ms": 1]]).status == 202)
      }
    }

    /// Tried before this rule: a tenant key's `diag.sleep` of 10 minutes on the billing queue was
    /// accepted and held a billing worker's slot, delaying every tenant's renewal behind it.
    @Test func diagnosticJobsAreForOperatorsAndRunOnlyOnTheirOwnQueue() async throws {
      try await EnqueuerFixture.with { f in
        let hostile: [String: Any] = ["type": "diag.sleep", "payload": ["ms": 600_000], "queue": "billing"]
        let byTenant = try await f.post("/v1/jobs", json: hostile)
        #expect(byTenant.status == 422)
        #expect(byTenant.problem.pointers == ["/type"])
        #expect(byTenant.problem.detail.contains("for operators"), "\(byTenant.text)")
        let batch = try await f.post("/v1/jobs/batch", json: ["jobs": [["type": "diag.noop"]]])
        #expect(batch.status == 422)
        #expect(batch.problem.pointers == ["/jobs/0/type"])

        // An operator's own diagnostic job cannot be pointed at billing either.
        let byOperator = try await f.submit(json: hostile)
        #expect(byOperator.status == 422)
        #expect(byOperator.problem.pointers == ["/queue"])
        #expect(byOperator.problem.detail.contains("'diag' only"), "\(byOperator.text)")

        // Left to its own queue, it goes in, and there.
        let fine = try await f.submit(json: ["type": "diag.sleep", "payload": ["ms": 1], "queue": "diag"])
        #expect(fine.status == 202)
        let id = try #require(try fine.json()["id"] as? String)
        let info = try await TestRedis.broker().job(id: id)
        #expect(info.queue == "diag" && info.tenant == f.tenant)
        // The tenant still reads the job submitted for it.
        #expect(try await f.get("/v1/jobs/\(id)").status == 200)
      }
    }
  }
}
