import Foundation
import JobQueue

/// The handlers a worker process can run, by job type.
public struct HandlerRegistry: Sendable {
  package typealias Runner = @Sendable (_ payload: String, _ context: JobContext) async throws -> Void

  private var runners: [String: Runner] = [:]
  private var outage: @Sendable (any Error) -> Bool = { _ in false }

  public init() {}

  /// Names the errors that mean a service the handlers need is out of reach (PostgreSQL down or
  /// failing over), not that the job failed: such a run is run again after a pause without being
  /// charged an attempt, so an outage longer than a job's retries kills no job.
  public mutating func treatAsOutage(_ classify: @escaping @Sendable (any Error) -> Bool) {
    outage = classify
  }

  package func isOutage(_ error: any Error) -> Bool { outage(error) }

  public mutating func register<H: JobHandler>(_ handler: H) {
    runners[H.Contract.type] = { payload, context in
      try await handler.run(try JobPayload.decode(H.Contract.Parameters.self, payload), context: context)
    }
  }

  public var types: [String] { runners.keys.sorted() }

  package func runner(for type: String) -> Runner? { runners[type] }
}

/// The job types whose payloads can be checked before they are enqueued: every contract of the
/// package, so `serve` refuses bad input at the door instead of a worker failing on it later,
/// without linking any handler.
public struct PayloadContracts: Sendable {
  private var validators: [String: @Sendable (String) throws -> Void] = [:]

  public init() {}

  public mutating func add<C: JobContract>(_: C.Type) {
    validators[C.type] = { payload in _ = try JobPayload.decode(C.Parameters.self, payload) }
  }

  /// Checks that `payload` decodes as `type`'s parameters (a type without a contract passes).
  public func validate(type: String, payload: String) throws(PayloadError) {
    guard let validator = validators[type] else { return }
    do {
      try validator(payload)
    } catch var error as PayloadError {
      error.type = type
      throw error
    } catch {
      throw PayloadError(type: type, reason: "\(error)")
    }
  }

  /// Every job type of the package.
  public static let all: PayloadContracts = {
    var contracts = PayloadContracts()
    for contract in allContracts { contracts.add(contract) }
    return contracts
  }()

  static let allContracts: [any JobContract.Type] = [
    DiagNoopJob.self, DiagSleepJob.self, DiagFailJob.self, DiagEchoJob.self, DiagCrashJob.self, ChipsHealthJob.self,
    CampaignStartJob.self, CampaignSendJob.self, CampaignsSweepJob.self, MaturationTickJob.self,
    MaturationExchangeJob.self, BillingSweepJob.self, BillingRenewJob.self, RetentionSweepJob.self, ChipCheckJob.self,
    ChipProvisionJob.self, ContainerEnsureJob.self, ChipReleaseJob.self, ChipRestartJob.self, ContainersMonitorJob.self,
  ]
}
