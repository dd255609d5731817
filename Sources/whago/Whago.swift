import ArgumentParser

@main
struct Whago: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "whago",
    abstract: "whago-jobs: WHAGO's job scheduler and campaign worker pool.",
    subcommands: [
      Work.self, Enqueue.self, JobCommand.self, Queues.self, QueueCommand.self, Schedules.self, Dead.self, Sim.self,
      Migrate.self, PlanCommand.self, TenantCommand.self, ContactCommand.self, APIKeyCommand.self, Serve.self,
      Limits.self, Workers.self,
      CreditsCommand.self, SubscriptionCommand.self, ProxyCommand.self, ContainerCommand.self,
    ])
}
