// grpc_peer.cc - paywire-grpc-peer: the gRPC C++ unary peer of paywire-bench.
//
//   paywire-grpc-peer --serve HOST:PORT [--ids N]
//       serves Lookup.Get from an in-memory map of N sessions (PORT 0: any
//       free port); prints "listening PORT" once ready; SIGTERM stops it.
//   paywire-grpc-peer --load HOST:PORT --threads T --seconds S [--ids N]
//       T threads, each calling Get in a loop (T calls in flight: a closed
//       loop, as paywire-bench's) on one shared channel for S seconds after a
//       warm-up of S/10 (at most 0.5 s); prints
//       "ops N ops_per_s R p50_us A p99_us B".
// Both sides name the sessions the same way, so every lookup hits.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <pthread.h>

#include "lookup.grpc.pb.h"

using paywire::benchpeer::Lookup;
using paywire::benchpeer::LookupReply;
using paywire::benchpeer::LookupRequest;

namespace {

constexpr int kIdsMax = 1000000;

std::string
session_id(int i)
{
	char buf[64];
	std::snprintf(buf, sizeof(buf), "cs_%044d", i);
	return buf;
}

class LookupService final : public Lookup::Service {
public:
	explicit LookupService(int n)
	{
		for (int i = 0; i < n; i++) {
			LookupReply r;
			r.set_session_id(session_id(i));
			r.set_status(1);
			r.set_amount_minor(4900);
			r.set_currency("EUR");
			r.set_created_at_unix_ms(1765000000000LL + i);
			r.set_expires_at_unix_ms(1765086400000LL + i);
			r.set_merchant_id("mer_00000000000000000000000000000000000000000001");
			map_.emplace(r.session_id(), r);
		}
	}

	grpc::Status
	Get(grpc::ServerContext *, const LookupRequest *req, LookupReply *reply) override
	{
		auto it = map_.find(req->session_id());
		if (it == map_.end()) {
			return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such session");
		}
		*reply = it->second;
		return grpc::Status::OK;
	}

private:
	std::unordered_map<std::string, LookupReply> map_; // read-only once serving
};

int
serve(const std::string &addr, int ids)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, nullptr); // before gRPC starts its threads

	LookupService svc(ids);
	int port = 0;
	grpc::ServerBuilder b;
	b.AddListeningPort(addr, grpc::InsecureServerCredentials(), &port);
	b.RegisterService(&svc);
	std::unique_ptr<grpc::Server> server = b.BuildAndStart();
	if (!server || port == 0) {
		std::fprintf(stderr, "paywire-grpc-peer: cannot listen on %s\n", addr.c_str());
		return 1;
	}
	std::printf("listening %d\n", port);
	std::fflush(stdout);
	int sig = 0;
	while (sigwait(&set, &sig) != 0) {
	}
	server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
	return 0;
}

int
load(const std::string &target, int threads, double seconds, int ids)
{
	using clock = std::chrono::steady_clock;
	auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
	if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
		std::fprintf(stderr, "paywire-grpc-peer: cannot connect to %s\n", target.c_str());
		return 1;
	}
	double warm = std::min(0.5, seconds / 10.0);
	auto start = clock::now();
	auto measure = start + std::chrono::duration_cast<clock::duration>(
	                           std::chrono::duration<double>(warm));
	auto end = measure + std::chrono::duration_cast<clock::duration>(
	                         std::chrono::duration<double>(seconds));
	std::vector<std::vector<uint32_t>> lat(threads); // ns / 16, capped: memory bound below
	std::atomic<bool> failed{false};
	std::vector<std::thread> ts;
	std::vector<clock::time_point> last(threads, measure);
	for (int t = 0; t < threads; t++) {
		ts.emplace_back([&, t] {
			auto stub = Lookup::NewStub(channel);
			LookupRequest req;
			req.set_request_id("req_0123456789abcdef0123456789abcdef");
			req.set_deadline_ms(10000);
			for (uint64_t k = (uint64_t) t;; k += (uint64_t) threads) {
				auto t0 = clock::now();
				if (t0 >= end || failed.load()) {
					break;
				}
				LookupReply reply;
				grpc::ClientContext ctx;
				ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
				req.set_session_id(session_id((int) (k % (uint64_t) ids)));
				grpc::Status st = stub->Get(&ctx, req, &reply);
				auto t1 = clock::now();
				if (!st.ok() || reply.session_id() != req.session_id()) {
					std::fprintf(stderr, "paywire-grpc-peer: Get: %s\n", st.error_message().c_str());
					failed.store(true);
					break;
				}
				if (t0 >= measure && lat[t].size() < 50000000u) {
					auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
					lat[t].push_back((uint32_t) std::min<long long>(ns, 0xffffffffLL));
					last[t] = t1;
				}
			}
		});
	}
	for (auto &th : ts) {
		th.join();
	}
	if (failed.load()) {
		return 1;
	}
	std::vector<uint32_t> all;
	clock::time_point done = measure;
	for (int t = 0; t < threads; t++) {
		all.insert(all.end(), lat[t].begin(), lat[t].end());
		done = std::max(done, last[t]);
	}
	if (all.empty()) {
		std::fprintf(stderr, "paywire-grpc-peer: no call measured\n");
		return 1;
	}
	std::sort(all.begin(), all.end());
	double wall = std::chrono::duration<double>(done - measure).count();
	auto rank = [&](double p) {
		size_t i = (size_t) (p * (double) all.size());
		return (double) all[std::min(i, all.size() - 1)] / 1000.0;
	};
	std::printf("ops %zu ops_per_s %.1f p99_us %.1f p50_us %.1f\n", all.size(),
	    (double) all.size() / wall, rank(0.99), rank(0.50));
	return 0;
}

int
usage()
{
	std::fprintf(stderr, "usage: paywire-grpc-peer --serve HOST:PORT [--ids N]\n"
	                     "       paywire-grpc-peer --load HOST:PORT --threads T --seconds S [--ids N]\n");
	return 2;
}

} // namespace

int
main(int argc, char **argv)
{
	std::string mode;
	std::string addr;
	int threads = 1;
	double seconds = 1.0;
	int ids = 64;

	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (i + 1 >= argc) {
			return usage();
		}
		std::string v = argv[++i];
		if (a == "--serve" || a == "--load") {
			mode = a;
			addr = v;
		} else if (a == "--threads") {
			threads = std::atoi(v.c_str());
		} else if (a == "--seconds") {
			seconds = std::atof(v.c_str());
		} else if (a == "--ids") {
			ids = std::atoi(v.c_str());
		} else {
			return usage();
		}
	}
	if (addr.empty() || threads < 1 || threads > 256 || !(seconds > 0) || ids < 1 ||
	    ids > kIdsMax) {
		return usage();
	}
	return mode == "--serve" ? serve(addr, ids) : load(addr, threads, seconds, ids);
}
