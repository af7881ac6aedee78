// Command cert-manager is a small cert-manager controller for the kind test
// environment, written by this project on cert-manager's public controller
// API (github.com/cert-manager/cert-manager/pkg/controller).
//
// Why not upstream's main: cert-manager's cmd/controller is a nested Go module
// that the module proxy cannot serve, and the full issuer set needs
// github.com/Venafi/vcert/v5, which the proxy refuses (403). So this binary
// links only the controllers the runbook needs (Certificate lifecycle,
// CertificateRequest approval, SelfSigned and CA issuers) and nothing that
// pulls in Venafi, Vault or ACME. See README.md.
//
// Flow: parse flags -> serve /healthz -> build a controller.ContextFactory ->
// take part in leader election (a Lease) -> when leading, construct the
// controllers, start the shared informer factories, run the controllers until
// SIGTERM or loss of the lease -> release the lease and exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	// Each package below registers its controller constructor with
	// controller.Register in its init(); runControllers picks them by name.
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"

	// Issuer implementations used by the issuers/clusterissuers controllers
	// (their init() calls issuer.RegisterIssuer).
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// enabledControllers is the exact set of control loops this binary runs.
var enabledControllers = []string{
	trigger.ControllerName,
	issuing.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
	approver.ControllerName,
	crselfsigned.CRControllerName,
	crca.CRControllerName,
	issuers.ControllerName,
	clusterissuers.ControllerName,
}

// Leader election timings: the client-go / kube-controller-manager defaults.
const (
	leaseName     = "cert-manager-controller"
	leaseDuration = 15 * time.Second
	renewDeadline = 10 * time.Second
	retryPeriod   = 2 * time.Second
	// drainTimeout bounds how long we wait for controllers to stop after
	// the leader context ends.
	drainTimeout = 30 * time.Second
)

func main() {
	klog.InitFlags(nil) // -v, -logtostderr (default true) etc.: logs go to stderr
	kubeconfig := flag.String("kubeconfig", "", "path to a kubeconfig; empty means in-cluster config")
	clusterNS := flag.String("cluster-resource-namespace", "cert-manager", "namespace holding Secrets referenced by ClusterIssuers")
	leNS := flag.String("leader-election-namespace", "cert-manager", "namespace of the leader election Lease")
	workers := flag.Int("workers", 5, "worker goroutines per controller")
	healthAddr := flag.String("healthz-address", ":9403", "listen address of the /healthz endpoint (empty disables it)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: %s [flags]\n\nMinimal cert-manager controller (SelfSigned and CA issuers only).\n\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()

	err := run(*kubeconfig, *clusterNS, *leNS, *workers, *healthAddr)
	if err != nil {
		klog.ErrorS(err, "cert-manager controller failed")
		klog.Flush()
		os.Exit(1)
	}
	klog.Info("cert-manager controller stopped cleanly")
	klog.Flush()
}

func run(kubeconfig, clusterNS, leNS string, workers int, healthAddr string) error {
	if workers < 1 {
		return fmt.Errorf("--workers must be at least 1, got %d", workers)
	}
	// sigCtx ends on SIGTERM/SIGINT. The cert-manager packages read their
	// logger from the context.
	sigCtx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopSignals()
	sigCtx = logf.NewContext(sigCtx, logf.Log)

	// The watchdog makes /healthz fail if we lead but have not renewed the
	// lease for leaseDuration+20s (so the kubelet restarts a wedged leader).
	watchdog := leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
	if healthAddr != "" {
		if err := serveHealthz(healthAddr, watchdog); err != nil {
			return err
		}
	}

	opts := controller.ContextOptions{
		Kubeconfig:         kubeconfig, // "" -> in-cluster config
		KubernetesAPIQPS:   20,         // upstream's defaults
		KubernetesAPIBurst: 50,
		IssuerOptions:      controller.IssuerOptions{ClusterResourceNamespace: clusterNS},
		CertificateOptions: controller.CertificateOptions{
			// Upstream defaults: copy all annotations except tool-owned ones,
			// back off 1h..32h after failed issuance.
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	}
	factory, err := controller.NewContextFactory(sigCtx, opts)
	if err != nil {
		return fmt.Errorf("building controller context (check --kubeconfig / in-cluster service account): %w", err)
	}
	// A Context of our own, only for its Kubernetes client (Lease lock).
	leClientCtx, err := factory.Build("leader-election")
	if err != nil {
		return fmt.Errorf("building leader election client: %w", err)
	}
	host, _ := os.Hostname()
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: leNS, Name: leaseName},
		Client:     leClientCtx.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: host + "_" + string(uuid.NewUUID())},
	}

	// leCtx drives the elector. It is cancelled only after the controllers
	// have stopped, so the lease is released only when no work is in flight.
	leCtx, leCancel := context.WithCancel(context.WithoutCancel(sigCtx))
	defer leCancel()
	var leading atomic.Bool
	result := make(chan error, 1)
	// If a signal arrives while we are still waiting for the lease, stop waiting.
	context.AfterFunc(sigCtx, func() {
		if !leading.Load() {
			leCancel()
		}
	})

	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   leaseDuration,
		RenewDeadline:   renewDeadline,
		RetryPeriod:     retryPeriod,
		ReleaseOnCancel: true,
		WatchDog:        watchdog,
		Name:            leaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				leading.Store(true)
				klog.InfoS("acquired leader lease", "lease", leNS+"/"+leaseName, "identity", lock.Identity())
				// Stop on SIGTERM or when the lease is lost.
				runCtx, cancel := context.WithCancel(lctx)
				defer cancel()
				stop := context.AfterFunc(sigCtx, cancel)
				defer stop()
				result <- runControllers(runCtx, factory, workers)
				leCancel() // controllers are done: release the lease
			},
			OnStoppedLeading: func() { klog.Info("leader election loop ended") },
			OnNewLeader:      func(id string) { klog.InfoS("current leader", "identity", id) },
		},
	})
	if err != nil {
		return fmt.Errorf("configuring leader election: %w", err)
	}
	watchdog.SetLeaderElection(elector)
	klog.InfoS("waiting for leader lease", "lease", leNS+"/"+leaseName)
	elector.Run(leCtx) // returns when leCtx ends or the lease is lost

	if !leading.Load() {
		if sigCtx.Err() != nil {
			return nil // signalled before we ever became leader
		}
		return errors.New("leader election ended before the lease was acquired")
	}
	select {
	case err := <-result:
		if err != nil {
			return err
		}
	case <-time.After(drainTimeout):
		return errors.New("controllers did not stop within " + drainTimeout.String())
	}
	if sigCtx.Err() == nil {
		return errors.New("lost the leader election lease")
	}
	return nil
}

// runControllers constructs the enabled controllers, then starts the shared
// informer factories (constructors register the informers they need, so the
// factories must be started after all constructors ran), then runs every
// controller until ctx ends. It returns the first controller error.
func runControllers(ctx context.Context, factory *controller.ContextFactory, workers int) error {
	known := controller.Known()
	ctrls := make(map[string]controller.Interface, len(enabledControllers))
	for _, name := range enabledControllers {
		construct, ok := known[name]
		if !ok {
			return fmt.Errorf("controller %q is not registered (missing import?)", name)
		}
		c, err := construct(factory)
		if err != nil {
			return fmt.Errorf("constructing controller %q: %w", name, err)
		}
		ctrls[name] = c
	}

	// All Contexts built by the factory share the same informer factories;
	// build one only to reach them.
	shared, err := factory.Build()
	if err != nil {
		return fmt.Errorf("building context to start informers: %w", err)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	defer shared.KubeSharedInformerFactory.Shutdown()
	defer shared.SharedInformerFactory.Shutdown()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(ctrls))
	for name, c := range ctrls {
		wg.Go(func() {
			klog.InfoS("starting controller", "controller", name, "workers", workers)
			err := c.Run(workers, logf.NewContext(runCtx, logf.Log, name))
			// Run only fails when its informers never synced; if we are
			// shutting down anyway (ctx done), that is not an error.
			if err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("controller %q: %w", name, err)
				cancel() // one failed: stop the others
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs // nil if no controller failed
}

// serveHealthz listens on addr and answers GET /healthz with 200 "ok", or 500
// if the leader election watchdog reports a lease that could not be renewed.
func serveHealthz(addr string, watchdog *leaderelection.HealthzAdaptor) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := watchdog.Check(r); err != nil {
			http.Error(w, "leader election: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for /healthz on %s: %w", addr, err)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "healthz server stopped")
		}
	}()
	return nil
}
