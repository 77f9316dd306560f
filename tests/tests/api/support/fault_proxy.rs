//! A loopback TCP proxy that injects network faults between two real processes: it forwards bytes
//! both ways until told to cut every connection, stall them (a black-holed peer: connections are
//! accepted, nothing moves), or delay each chunk.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::{JoinHandle, JoinSet},
};

/// What the proxy does to traffic now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Forward everything.
    None,
    /// Close every open connection and every new one at once.
    Cut,
    /// Keep connections open and accept new ones, but forward nothing until the fault changes.
    Stall,
    /// Forward each chunk after this long.
    Delay(Duration),
}

/// The proxy, listening on a loopback port until dropped.
pub(crate) struct FaultProxy {
    addr: SocketAddr,
    fault: watch::Sender<Fault>,
    held: Arc<AtomicUsize>,
    accept: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // The accept task owns the connection tasks: aborting it drops (closes) them all.
        self.accept.abort();
    }
}

impl FaultProxy {
    /// Forwards a fresh loopback port to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (fault, watching) = watch::channel(Fault::None);
        let held = Arc::new(AtomicUsize::new(0));
        let accept = tokio::spawn(accept_loop(listener, upstream, watching, held.clone()));
        Self {
            addr,
            fault,
            held,
            accept,
        }
    }

    /// Where clients connect instead of `upstream`.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Injects `fault` (or [`Fault::None`] to heal) on every connection, open or new.
    pub(crate) fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// How many chunks a stall has caught in flight so far (a test waits for one before cutting,
    /// so the cut lands mid-call).
    pub(crate) fn held_chunks(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    fault: watch::Receiver<Fault>,
    held: Arc<AtomicUsize>,
) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        // Reap finished relays so the set does not grow with every connection.
        while connections.try_join_next().is_some() {}
        if *fault.borrow() == Fault::Cut {
            drop(inbound);
            continue;
        }
        connections.spawn(relay(inbound, upstream, fault.clone(), held.clone()));
    }
}

async fn relay(
    inbound: TcpStream,
    upstream: SocketAddr,
    fault: watch::Receiver<Fault>,
    held: Arc<AtomicUsize>,
) {
    let Ok(outbound) = TcpStream::connect(upstream).await else {
        return;
    };
    let (from_client, to_client) = inbound.into_split();
    let (from_server, to_server) = outbound.into_split();
    // Whichever ends first (a side closed, or a cut) drops both sockets.
    tokio::select! {
        () = pipe(from_client, to_server, fault.clone(), &held) => {}
        () = pipe(from_server, to_client, fault.clone(), &held) => {}
        () = until_cut(fault) => {}
    }
}

async fn until_cut(mut fault: watch::Receiver<Fault>) {
    loop {
        if *fault.borrow_and_update() == Fault::Cut {
            return;
        }
        if fault.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Waits while stalled, then (when `delay`) applies any delay; false when the proxy is gone.
async fn may_forward(fault: &mut watch::Receiver<Fault>, delay: bool) -> bool {
    loop {
        let now = *fault.borrow_and_update();
        match now {
            Fault::Stall => {
                if fault.changed().await.is_err() {
                    return false;
                }
            }
            Fault::Delay(pause) if delay => {
                tokio::time::sleep(pause).await;
                return true;
            }
            Fault::None | Fault::Cut | Fault::Delay(_) => return true,
        }
    }
}

async fn pipe(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut fault: watch::Receiver<Fault>,
    held: &AtomicUsize,
) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        // A stalled connection neither reads nor writes, so the sender's window fills as it would.
        if !may_forward(&mut fault, false).await {
            return;
        }
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        // A stall that began while this read waited holds the bytes already read, too.
        if *fault.borrow() == Fault::Stall {
            held.fetch_add(1, Ordering::Relaxed);
        }
        if !may_forward(&mut fault, true).await {
            return;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}
